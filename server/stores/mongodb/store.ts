// The MongoDB store: documents in the app's collections, oplog and counters in `sync_*` collections.
import { WriteConcern, type ClientSession, type Db, type TransactionOptions } from 'mongodb';
import type { DocKey, OplogEntry, OplogStats, ReadOplogOptions, ScanDocsOptions, ScopeHead, Store, StoreEvent, StoredDoc, StoreTx } from '../store.js';
import { ChangeFeed } from './change-feed.js';
import { storeCollections, type OplogDoc, type ScopeDoc, type StoreCollections } from './collections.js';
import { fromMongoDoc, META } from './documents.js';
import { isDuplicateKey } from './errors.js';
import { acquireLease, releaseLease } from './lease.js';
import { resolveOptions, type MongoStoreOptions, type ResolvedMongoOptions } from './options.js';
import { ensureDocIndex, ensureEpoch, ensureStoreCollections, isClustered } from './setup.js';
import { createTx, type TxContext, type TxState } from './tx.js';

/** A MongoDB store, with the `Db` it was made with as an escape hatch. */
export type MongoStore = Store & { readonly kind: 'mongodb'; readonly raw: Db };

// Snapshot reads see every commit that came before the scope lock; majority writes survive a failover,
// so a seq handed to a client is never taken back and reused.
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

class MongoStoreImpl implements MongoStore {
  readonly kind = 'mongodb' as const;
  readonly #opts: ResolvedMongoOptions;
  readonly #cols: StoreCollections;
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #feed: ChangeFeed;
  /** App collections whose `{_sync_scope_id, _sync_id}` index this process has ensured. */
  readonly #indexed = new Set<string>();
  #epoch: string | null = null;
  #transactions = false;
  #clustered = false;

  constructor(
    readonly raw: Db,
    options: MongoStoreOptions | undefined,
  ) {
    this.#opts = resolveOptions(options);
    this.#cols = storeCollections(raw);
    this.#feed = new ChangeFeed(this.#cols.scopes, (event) => this.#emit(event));
  }

  async init(): Promise<void> {
    this.#clustered = await isClustered(this.raw);
    this.#transactions = this.#opts.transactions === 'auto' ? this.#clustered : this.#opts.transactions;
    await ensureStoreCollections(this.raw, this.#cols, this.#opts.retentionSeconds);
    for (const collection of this.#opts.collections) await this.#ensureDocIndex(this.#opts.collectionName(collection));
    this.#epoch = await ensureEpoch(this.#cols);
    // A listener registered before init() waited for the topology to be known.
    if (this.#listeners.size > 0 && this.#clustered) this.#feed.start();
  }

  epoch(): string {
    if (this.#epoch === null) throw new Error('mongoStore: call init() before use');
    return this.#epoch;
  }

  async transaction<T>(scope: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.epoch(); // init() decides between transactions and the standalone path
    const state: TxState = { committedSeq: null, written: new Set() };
    const result = this.#transactions
      ? await this.#inTransaction(scope, fn, state)
      : await this.#standalone(scope, fn, state);
    if (state.committedSeq !== null) this.#emit({ type: 'commit', scope, seq: state.committedSeq });
    for (const name of state.written) {
      // After the commit: an index build inside the transaction would wait for the transaction itself.
      if (!this.#indexed.has(name)) await this.#ensureDocIndex(name).catch(() => undefined); // retried on the next write
    }
    return result;
  }

  async #inTransaction<T>(scope: string, fn: (tx: StoreTx) => Promise<T>, state: TxState): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let locked = false;
      try {
        return await this.raw.client.withSession((session: ClientSession) =>
          // withTransaction re-runs the callback on TransientTransactionError and retries the commit on
          // UnknownTransactionCommitResult; the engine's fn is re-runnable, so only the state is reset.
          session.withTransaction(async () => {
            state.committedSeq = null;
            state.written.clear();
            // The scope lock: every writer of the scope updates this document first, so concurrent
            // writers conflict and commit one at a time, and seq order is commit order.
            const doc = await this.#cols.scopes.findOneAndUpdate(
              { _id: scope },
              { $inc: { lock: 1 }, $setOnInsert: { seq: 0, horizon: 0 } },
              { upsert: true, returnDocument: 'after', session },
            );
            locked = true;
            const tx = createTx(this.#txContext(scope, doc, session), state);
            return fn(tx);
          }, TRANSACTION_OPTIONS),
        );
      } catch (error) {
        // Two first writers of a new scope may both try to insert its document; the loser retries.
        if (!locked && isDuplicateKey(error) && attempt < 3) continue;
        throw error;
      }
    }
  }

  async #standalone<T>(scope: string, fn: (tx: StoreTx) => Promise<T>, state: TxState): Promise<T> {
    // No transactions: writes apply one by one, in order, under a scope lease (see docs/mongodb.md).
    const { owner, doc } = await acquireLease(this.#cols.scopes, scope);
    try {
      return await fn(createTx({ ...this.#txContext(scope, doc), leaseOwner: owner }, state));
    } finally {
      // A failed release must not hide fn's outcome; the lease then simply expires.
      await releaseLease(this.#cols.scopes, scope, owner).catch(() => undefined);
    }
  }

  #txContext(scope: string, doc: ScopeDoc | null, session?: ClientSession): TxContext {
    return {
      db: this.raw,
      cols: this.#cols,
      scope,
      head: { seq: doc?.seq ?? 0, horizon: doc?.horizon ?? 0 },
      knownCollections: doc?.collections ?? [],
      collectionName: this.#opts.collectionName,
      session,
    };
  }

  async head(scope: string): Promise<ScopeHead> {
    const doc = await this.#cols.scopes.findOne({ _id: scope }, { projection: { seq: 1, horizon: 1 } });
    return { seq: doc?.seq ?? 0, horizon: doc?.horizon ?? 0 };
  }

  async readOplog(scope: string, options: ReadOplogOptions): Promise<OplogEntry[]> {
    const seq: { $gt: number; $lte?: number } = { $gt: options.afterSeq };
    if (options.uptoSeq !== undefined) seq.$lte = options.uptoSeq;
    const filter: Record<string, unknown> = { scope, seq };
    if (options.collections) filter.collection = { $in: [...options.collections] };
    let cursor = this.#cols.oplog.find(filter).sort({ seq: 1, idx: 1 });
    if (options.limit !== undefined) cursor = cursor.limit(options.limit);
    const docs = await cursor.toArray();
    return docs.map(toOplogEntry);
  }

  async findVersion(scope: string, key: DocKey, version: string): Promise<Record<string, unknown> | null | undefined> {
    const doc = await this.#cols.oplog.findOne(
      { scope, collection: key.collection, id: key.id, version },
      { projection: { data: 1 } },
    );
    return doc ? doc.data : undefined;
  }

  async scanDocs(scope: string, options: ScanDocsOptions): Promise<StoredDoc[]> {
    // Documents live in one MongoDB collection per synced collection: walk them in name order.
    // Without a filter, the scope document lists the collections this scope has written to.
    const listed = options.collections
      ? options.collections
      : ((await this.#cols.scopes.findOne({ _id: scope }, { projection: { collections: 1 } }))?.collections ?? []);
    const names = [...new Set(listed)].sort();
    const after = options.after ?? null;
    const out: StoredDoc[] = [];
    for (const collection of names) {
      if (out.length >= options.limit) break;
      if (after && collection < after.collection) continue;
      const filter: Record<string, unknown> = { [META.scope]: scope };
      if (after && collection === after.collection) filter[META.id] = { $gt: after.id };
      const docs = await this.raw
        .collection(this.#opts.collectionName(collection))
        .find(filter)
        .sort({ [META.id]: 1 })
        .limit(options.limit - out.length)
        .toArray();
      for (const raw of docs) out.push(fromMongoDoc(collection, raw));
    }
    return out;
  }

  async prune(before: Date): Promise<{ removed: number }> {
    // Horizons first: a pull that meets a moved horizon resyncs, never misses the entries removed next.
    const tops = await this.#cols.oplog
      .aggregate<{ _id: string; seq: number }>([
        { $match: { at: { $lt: before } } },
        { $group: { _id: '$scope', seq: { $max: '$seq' } } },
      ])
      .toArray();
    if (tops.length > 0) {
      await this.#cols.scopes.bulkWrite(
        tops.map((t) => ({ updateOne: { filter: { _id: t._id }, update: { $max: { horizon: t.seq } } } })),
        { ordered: false },
      );
    }
    const removed = await this.#cols.oplog.deleteMany({ at: { $lt: before } });
    await this.#cols.mutations.deleteMany({ at: { $lt: before } });
    return { removed: removed.deletedCount };
  }

  async oplogStats(): Promise<OplogStats> {
    // estimatedDocumentCount reads the collection's metadata (the `count` command), never the
    // documents; it can be off after an unclean shutdown or with orphaned documents on a sharded
    // cluster, hence `estimated`. The ends of the `at` (TTL) index give the age span.
    const [entries, oldest, newest] = await Promise.all([
      this.#cols.oplog.estimatedDocumentCount(),
      this.#cols.oplog.find({}, { projection: { _id: 0, at: 1 } }).sort({ at: 1 }).limit(1).next(),
      this.#cols.oplog.find({}, { projection: { _id: 0, at: 1 } }).sort({ at: -1 }).limit(1).next(),
    ]);
    return { entries, estimated: true, oldestAt: oldest?.at ?? null, newestAt: newest?.at ?? null };
  }

  onEvent(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    // The shared feed opens with the first listener (before init(), init() opens it).
    if (this.#clustered) this.#feed.start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.#feed.stop();
    };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#feed.stop();
    // The MongoClient belongs to the app, which closes it.
  }

  #emit(event: StoreEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // One failing listener must not starve the others.
      }
    }
  }

  async #ensureDocIndex(name: string): Promise<void> {
    await ensureDocIndex(this.raw, name);
    this.#indexed.add(name);
  }
}

function toOplogEntry(doc: OplogDoc): OplogEntry {
  return {
    scope: doc.scope,
    seq: doc.seq,
    idx: doc.idx,
    collection: doc.collection,
    id: doc.id,
    op: doc.op,
    data: doc.data ?? null,
    version: doc.version,
    actor: doc.actor,
    clientId: doc.clientId ?? null,
    mutationId: doc.mutationId ?? null,
    at: doc.at,
  };
}

/**
 * Creates a MongoDB store over the app's `Db`. Call `init()` once before use.
 *
 * @example
 * const client = new MongoClient('mongodb://127.0.0.1:27017/?replicaSet=rs0');
 * const store = mongoStore(client.db('app'), { collectionName: (c) => `app_${c}` });
 * await store.init();
 */
export function mongoStore(db: Db, options?: MongoStoreOptions): MongoStore {
  return new MongoStoreImpl(db, options);
}
