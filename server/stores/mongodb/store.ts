// The MongoDB store: documents in the app's collections, oplog and counters in `sync_*` collections.
import { performance } from 'node:perf_hooks';
import { WriteConcern, type ClientSession, type Db, type TransactionOptions } from 'mongodb';
import { SyncError } from '../../../shared/errors.js';
import type {
  CollectionChecksum,
  DocKey,
  DocMatch,
  IndexSpec,
  OplogEntry,
  OplogStats,
  ReadOplogOptions,
  ScanDocsOptions,
  ScopeHead,
  Store,
  StoreEvent,
  StoredDoc,
  StoreTx,
} from '../store.js';
import { WRITER_FIELD } from '../store.js';
import { ChangeFeed, PIPELINE } from './change-feed.js';
import { keptChecksums, readChecksums } from './checksums.js';
import {
  storeCollections,
  type OplogDoc,
  type ScopeDoc,
  type StoreCollections,
} from './collections.js';
import { isDuplicateKey } from './errors.js';
import { acquireLease } from './lease.js';
import { oplogFilter, readBounded, type FetchOplog } from './oplog-read.js';
import { resolveOptions, type MongoStoreOptions, type ResolvedMongoOptions } from './options.js';
import { planHorizon } from './prune.js';
import { ReadPath, type ReadOptions } from './reads.js';
import { scanCollections, scanPage } from './scan.js';
import { META } from './documents.js';
import {
  ensureDocIndex,
  ensureEpoch,
  ensureStoreCollections,
  topology,
  type Topology,
} from './setup.js';
import { recoverScope } from './standalone.js';
import { createTx, MissingIndex, type TxContext, type TxState } from './tx.js';

/** A MongoDB store, with the `Db` it was made with as an escape hatch. */
export type MongoStore = Store & { readonly kind: 'mongodb'; readonly raw: Db };

// Snapshot reads see every commit that came before the scope lock; majority writes survive a failover,
// so a seq handed to a client is never taken back and reused.
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: new WriteConcern('majority'),
  readPreference: 'primary',
};

const MAJORITY = new WriteConcern('majority');

class MongoStoreImpl implements MongoStore {
  readonly kind = 'mongodb' as const;
  readonly #opts: ResolvedMongoOptions;
  readonly #cols: StoreCollections;
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #feed: ChangeFeed;
  readonly #reads: ReadPath;
  /** App collections whose indexes this process has ensured. */
  readonly #indexed = new Set<string>();
  #epoch: string | null = null;
  #transactions = false;
  #topology: Topology = { clustered: false, sharded: false };

  constructor(
    readonly raw: Db,
    options: MongoStoreOptions | undefined,
  ) {
    this.#opts = resolveOptions(options);
    this.#cols = storeCollections(raw, this.#opts.collectionPrefix);
    this.#feed = new ChangeFeed(
      (opts) => this.#cols.scopes.watch(PIPELINE, opts),
      (event) => this.#emit(event),
    );
    this.#reads = new ReadPath(raw.client, () => this.#topology.clustered);
  }

  async init(): Promise<void> {
    this.#topology = await topology(this.raw);
    this.#transactions =
      this.#opts.transactions === 'auto' ? this.#topology.clustered : this.#opts.transactions;
    await ensureStoreCollections(this.raw, this.#cols);
    // Every app collection the store knows of gets its indexes now, not in the middle of a push.
    const listed = (await this.#cols.scopes.distinct(
      'collections',
      {},
      { readPreference: 'primary' },
    )) as unknown[];
    const names = new Set([
      ...this.#opts.collections,
      ...listed.filter((c): c is string => typeof c === 'string'),
    ]);
    for (const collection of names)
      await this.#ensureDocIndex(this.#opts.collectionName(collection));
    this.#epoch = await ensureEpoch(this.#cols);
    // A listener registered before init() waited for the topology to be known.
    if (this.#listeners.size > 0 && this.#topology.clustered) this.#feed.start();
  }

  epoch(): string {
    if (this.#epoch === null) throw new Error('mongoStore: call init() before use');
    return this.#epoch;
  }

  async transaction<T>(scope: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.epoch(); // init() decides between transactions and the standalone path
    const state: TxState = { committedSeq: null };
    const result = this.#transactions
      ? await this.#inTransaction(scope, fn, state)
      : await this.#standalone(scope, fn, state);
    if (state.committedSeq !== null) this.#emit({ type: 'commit', scope, seq: state.committedSeq });
    return result;
  }

  async #inTransaction<T>(
    scope: string,
    fn: (tx: StoreTx) => Promise<T>,
    state: TxState,
  ): Promise<T> {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      let locked = false;
      try {
        return await this.raw.client.withSession(async (session: ClientSession) => {
          this.#reads.advance(session);
          try {
            // withTransaction re-runs the callback on TransientTransactionError (a write conflict on the scope
            // lock) and retries the commit on UnknownTransactionCommitResult; the engine's fn is re-runnable.
            return await session.withTransaction(
              async () => {
                if (performance.now() - started > this.#opts.lockWaitMs) {
                  throw new SyncError(
                    'UNAVAILABLE',
                    `scope is busy: another writer held it for over ${Math.round(this.#opts.lockWaitMs / 1000)} s; retry the push`,
                  );
                }
                state.committedSeq = null;
                // The scope lock: every writer of the scope updates this document first, so concurrent
                // writers conflict and commit one at a time, and seq order is commit order.
                const doc = await this.#cols.scopes.findOneAndUpdate(
                  { _id: scope },
                  { $inc: { lock: 1 }, $setOnInsert: { seq: 0, horizon: 0 } },
                  { upsert: true, returnDocument: 'after', session },
                );
                locked = true;
                // Entries above the head belong to no commit (left by a standalone writer before this
                // database became a replica set): they would collide with this commit's.
                await this.#cols.oplog.deleteMany(
                  { scope, seq: { $gt: doc?.seq ?? 0 } },
                  { session },
                );
                return fn(createTx(this.#txContext(scope, doc, session), state));
              },
              { ...TRANSACTION_OPTIONS, maxCommitTimeMS: this.#opts.commitTimeoutMs },
            );
          } finally {
            this.#reads.observe(session);
          }
        });
      } catch (error) {
        // A first write to an app collection: its index is built outside the transaction, then the push re-runs.
        if (error instanceof MissingIndex && attempt < 5) {
          await this.#ensureDocIndex(error.collection);
          continue;
        }
        // Two first writers of a new scope may both try to insert its document; the loser retries.
        if (!locked && isDuplicateKey(error) && attempt < 3) continue;
        throw error;
      }
    }
  }

  async #standalone<T>(scope: string, fn: (tx: StoreTx) => Promise<T>, state: TxState): Promise<T> {
    // No transactions: one writer per scope under a lease; the head's compare-and-set is the commit point (docs/mongodb.md).
    const run = async (session?: ClientSession): Promise<T> => {
      const lease = await acquireLease(this.#cols.scopes, scope, this.#opts.lockWaitMs);
      try {
        const ensureIndex = (name: string) => this.#ensureDocIndex(name);
        const seq = await recoverScope(
          this.raw,
          this.#cols,
          this.#opts.collectionName,
          scope,
          lease.owner,
          lease.doc,
          ensureIndex,
          session,
        );
        const doc: ScopeDoc = { ...lease.doc, seq };
        delete doc.pending;
        delete doc.pendingWriter;
        return await fn(createTx({ ...this.#txContext(scope, doc, session), lease }, state));
      } finally {
        // A failed release must not hide fn's outcome; the lease then simply expires.
        await lease.release().catch(() => undefined);
      }
    };
    if (!this.#topology.clustered) return run();
    // The lease path on a replica set (transactions: false): a causal session, so this store's later reads see these writes.
    return this.raw.client.withSession(async (session: ClientSession) => {
      this.#reads.advance(session);
      try {
        return await run(session);
      } finally {
        this.#reads.observe(session);
      }
    });
  }

  #txContext(scope: string, doc: ScopeDoc | null, session?: ClientSession): TxContext {
    return {
      db: this.raw,
      cols: this.#cols,
      scope,
      head: { seq: doc?.seq ?? 0, horizon: doc?.horizon ?? 0 },
      knownCollections: doc?.collections ?? [],
      collectionName: this.#opts.collectionName,
      indexed: (name) => this.#indexed.has(name),
      ensureIndex: (name) => this.#ensureDocIndex(name),
      session,
    };
  }

  async head(scope: string, options?: { checksums?: readonly string[] }): Promise<ScopeHead> {
    return this.#reads.run(async (read) => this.#readHead(scope, read, options?.checksums));
  }

  /** The head, and with `checksums` those collections' kept sums from the same document read (one snapshot). */
  async #readHead(
    scope: string,
    read: ReadOptions,
    checksums?: readonly string[],
  ): Promise<ScopeHead> {
    const projection = checksums ? { seq: 1, horizon: 1, checksums: 1 } : { seq: 1, horizon: 1 };
    const doc = await this.#cols.scopes.findOne({ _id: scope }, { ...read, projection });
    const head: ScopeHead = { seq: doc?.seq ?? 0, horizon: doc?.horizon ?? 0 };
    if (checksums) head.checksums = keptChecksums(doc as { checksums?: unknown } | null, checksums);
    return head;
  }

  async checksums(scope: string, collections?: readonly string[]): Promise<CollectionChecksum[]> {
    return this.#reads.run((read) => readChecksums(this.#cols.scopes, scope, collections, read));
  }

  async readOplog(scope: string, options: ReadOplogOptions): Promise<OplogEntry[]> {
    return this.#reads.run(async (read) => {
      // Bounded by the head read in the same causal session: entries above it belong to no commit yet.
      const head = await this.#readHead(scope, read);
      const uptoSeq = Math.min(options.uptoSeq ?? Number.POSITIVE_INFINITY, head.seq);
      // A commit's writer is kept on its first entry only, so "entries this user wrote" cannot be
      // asked of the query: with `keepWriter`, every entry is read and the engine judges each.
      const match = options.keepWriter === undefined ? options.match : undefined;
      const fetch: FetchOplog = async (after, upto, limit) => {
        let cursor = this.#cols.oplog
          .find(oplogFilter(scope, after, upto, options.collections, match), {
            ...read,
            projection: { redo: 0 },
          })
          .sort({ seq: 1, idx: 1 });
        if (limit !== undefined) cursor = cursor.limit(limit);
        return cursor.toArray();
      };
      const wanted = options.collections ? new Set(options.collections) : null;
      // Entry 0 of each commit is fetched to learn its writer; the filters apply to what is kept.
      const shows = (e: OplogDoc) => {
        const m = match?.get(e.collection);
        return (
          !m ||
          e.before === undefined ||
          m.some((one) => docMatchesFilter(one, e.data) || docMatchesFilter(one, e.before ?? null))
        );
      };
      const docs = await readBounded(
        fetch,
        { afterSeq: options.afterSeq, uptoSeq, limit: options.limit },
        (e) => (!wanted || wanted.has(e.collection)) && shows(e),
      );
      return docs.map(toOplogEntry);
    });
  }

  async findVersion(
    scope: string,
    key: DocKey,
    version: string,
  ): Promise<Record<string, unknown> | null | undefined> {
    const doc = await this.#reads.run((read) =>
      this.#cols.oplog.findOne(
        { scope, collection: key.collection, id: key.id, version },
        { ...read, projection: { data: 1 } },
      ),
    );
    return doc ? doc.data : undefined;
  }

  async scanDocs(scope: string, options: ScanDocsOptions): Promise<StoredDoc[]> {
    return this.#reads.run(async (read) => {
      const listed = options.collections
        ? undefined
        : (
            await this.#cols.scopes.findOne(
              { _id: scope },
              { ...read, projection: { collections: 1 } },
            )
          )?.collections;
      const names = scanCollections(listed, this.#opts.collections, options.collections);
      return scanPage(this.raw, this.#opts.collectionName, scope, names, options, read);
    });
  }

  /**
   * One index per ruled collection and field, `{ _sync_scope_id, <field>, _sync_id }`, so a view's
   * full export (`scanDocs` with `match`) reads by index (createIndexes is idempotent).
   */
  async ensureIndexes(specs: readonly IndexSpec[]): Promise<void> {
    for (const spec of specs) {
      const coll = this.raw.collection(this.#opts.collectionName(spec.collection));
      // `$writer` (the last writer) is the `_sync_actor_id` metadata field.
      const indexes = spec.fields.map((field) =>
        field === WRITER_FIELD
          ? { key: { [META.scope]: 1, [META.actor]: 1, [META.id]: 1 }, name: 'sync_rule_writer' }
          : { key: { [META.scope]: 1, [field]: 1, [META.id]: 1 }, name: `sync_rule_${field}` },
      );
      if (indexes.length > 0) await coll.createIndexes(indexes);
    }
  }

  async prune(before: Date): Promise<{ removed: number }> {
    const scopes = await this.#reads.run((read) =>
      this.#cols.oplog
        .aggregate<{ _id: string }>(
          [{ $match: { at: { $lt: before } } }, { $group: { _id: '$scope' } }],
          read,
        )
        .toArray(),
    );
    let removed = 0;
    for (const { _id: scope } of scopes) removed += await this.#pruneScope(scope, before);
    await this.#cols.mutations.deleteMany(
      { at: { $lt: before } },
      this.#topology.clustered ? { writeConcern: MAJORITY } : {},
    );
    return { removed };
  }

  /** Moves one scope's horizon (under its lock on a replica set), then deletes the entries at or below it. */
  async #pruneScope(scope: string, before: Date): Promise<number> {
    const maxSeqBefore = async (head: number, session?: ClientSession): Promise<number | null> => {
      const [top] = await this.#cols.oplog
        .aggregate<{ seq: number }>(
          [
            { $match: { scope, at: { $lt: before }, seq: { $lte: head } } },
            { $group: { _id: null, seq: { $max: '$seq' } } },
          ],
          { session },
        )
        .toArray();
      return top?.seq ?? null;
    };
    let horizon: number;
    if (this.#transactions) {
      horizon = await this.raw.client.withSession(async (session) => {
        this.#reads.advance(session);
        try {
          return await session.withTransaction(
            async () => {
              const doc = await this.#cols.scopes.findOneAndUpdate(
                { _id: scope },
                { $inc: { lock: 1 } },
                { returnDocument: 'after', session },
              );
              if (!doc) return 0;
              const next = planHorizon(
                { seq: doc.seq, horizon: doc.horizon },
                await maxSeqBefore(doc.seq, session),
              );
              if (next !== doc.horizon)
                await this.#cols.scopes.updateOne(
                  { _id: scope },
                  { $set: { horizon: next } },
                  { session },
                );
              return next;
            },
            { ...TRANSACTION_OPTIONS, maxCommitTimeMS: this.#opts.commitTimeoutMs },
          );
        } finally {
          this.#reads.observe(session);
        }
      });
    } else {
      const doc = await this.#cols.scopes.findOne({ _id: scope }, { readPreference: 'primary' });
      if (!doc) return 0;
      const head: ScopeHead = { seq: doc.seq, horizon: doc.horizon };
      horizon = planHorizon(head, await maxSeqBefore(head.seq));
      await this.#cols.scopes.updateOne({ _id: scope }, { $max: { horizon } });
    }
    if (horizon === 0) return 0;
    // Only at or below the horizon, which is never above a committed head: an entry committed during the prune is kept.
    const res = await this.#cols.oplog.deleteMany(
      { scope, seq: { $lte: horizon } },
      this.#topology.clustered ? { writeConcern: MAJORITY } : {},
    );
    return res.deletedCount;
  }

  async oplogStats(): Promise<OplogStats> {
    // estimatedDocumentCount reads the collection's metadata (the `count` command), never the
    // documents; it can be off after an unclean shutdown or with orphaned documents on a sharded
    // cluster, hence `estimated`. The ends of the `at` index give the age span.
    const [entries, oldest, newest] = await Promise.all([
      this.#cols.oplog.estimatedDocumentCount(),
      this.#cols.oplog
        .find({}, { projection: { _id: 0, at: 1 } })
        .sort({ at: 1 })
        .limit(1)
        .next(),
      this.#cols.oplog
        .find({}, { projection: { _id: 0, at: 1 } })
        .sort({ at: -1 })
        .limit(1)
        .next(),
    ]);
    return { entries, estimated: true, oldestAt: oldest?.at ?? null, newestAt: newest?.at ?? null };
  }

  onEvent(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    // The shared feed opens with the first listener (before init(), init() opens it).
    if (this.#topology.clustered) this.#feed.start();
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
    if (this.#indexed.has(name)) return;
    await ensureDocIndex(this.raw, name);
    this.#indexed.add(name);
  }
}

/** Whether data matches a `DocMatch` as the query does (a missing field counts as null, arrays never match). */
function docMatchesFilter(match: DocMatch, data: Record<string, unknown> | null): boolean {
  if (!data) return false;
  return Object.entries(match).every(([field, values]) => {
    const v = Object.hasOwn(data, field) ? data[field] : null;
    return (
      !Array.isArray(v) &&
      values.some((w) => (w === null ? v === null || v === undefined : v === w))
    );
  });
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
    // Absent: no pre-image kept; null: the document did not exist before the entry.
    ...(doc.before === undefined ? {} : { before: doc.before ?? null }),
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
