// The StoreTx of the MongoDB store: the reads and writes of one push on one scope (a transaction, or the standalone lease path).
import type { AnyBulkWriteOperation, ClientSession, Db, Document } from 'mongodb';
import { SyncError } from '../../../shared/errors.js';
import type {
  ClientLedger,
  DocKey,
  MutationRecord,
  OplogEntry,
  ScopeHead,
  StoredDoc,
  StoreTx,
  RecordedOutcome,
} from '../store.js';
import type { MutationDoc, RedoImage, StoreCollections } from './collections.js';
import { fromMongoDoc, legacyIdCandidates, META, toMongoDoc } from './documents.js';
import { isDuplicateKey } from './errors.js';
import type { Lease } from './lease.js';
import { addChecksums } from './checksums.js';
import { attachRedo, writeImages } from './standalone.js';

/** What one run of a transaction did, read by the store after it committed. */
export interface TxState {
  /** The seq `setHead` moved the scope to; `null` when nothing was committed. */
  committedSeq: number | null;
}

/** Thrown inside a transaction that would write to an app collection whose index is not known to exist: built outside, then re-run. */
export class MissingIndex extends Error {
  constructor(readonly collection: string) {
    super(`index of ${collection} not ensured yet`);
    this.name = 'MissingIndex';
  }
}

export interface TxContext {
  db: Db;
  cols: StoreCollections;
  scope: string;
  head: ScopeHead;
  /** Synced collections already listed on the scope document. */
  knownCollections: readonly string[];
  collectionName: (collection: string) => string;
  /** Whether this process has ensured the index of an app collection. */
  indexed: (name: string) => boolean;
  /** Ensures an app collection's index (outside any transaction). */
  ensureIndex: (name: string) => Promise<void>;
  /**
   * The transaction's session; on the lease path of a replica set, a causal session (no
   * transaction) so that this store's later reads see these writes; absent on a standalone server.
   */
  session?: ClientSession;
  /** Standalone only: the lease this writer holds. */
  lease?: Lease;
}

/**
 * Builds the StoreTx. Operations run one after another (never in parallel): MongoDB transactions
 * do not support concurrent operations on one session.
 */
export function createTx(ctx: TxContext, state: TxState): StoreTx {
  const { cols, scope, session, lease } = ctx;
  const known = new Set(ctx.knownCollections);
  /** `_id` of documents read that carry no `_sync_id` (written by another program), by key. */
  const legacy = new Map<string, unknown>();
  /** Standalone: the images `setHead` writes after the commit point. */
  let images: RedoImage[] = [];

  const listCollections = async (docs: readonly StoredDoc[]): Promise<void> => {
    const added = [...new Set(docs.map((d) => d.collection))].filter((c) => !known.has(c));
    if (added.length === 0) return;
    await cols.scopes.updateOne(
      { _id: scope },
      { $addToSet: { collections: { $each: added } } },
      { session },
    );
    for (const c of added) known.add(c);
  };

  return {
    head: ctx.head,

    async getDocs(keys: DocKey[]): Promise<StoredDoc[]> {
      const out: StoredDoc[] = [];
      for (const [collection, ids] of groupBy(
        keys,
        (k) => k.collection,
        (k) => k.id,
      )) {
        const coll = ctx.db.collection(ctx.collectionName(collection));
        const unique = [...new Set(ids)];
        const found = await coll
          .find({ [META.scope]: scope, [META.id]: { $in: unique } }, { session })
          .toArray();
        for (const raw of found) out.push(fromMongoDoc(collection, raw));
        // Documents another program wrote without `_sync_id` answer to the string form of their `_id`.
        const missing = unique.filter((id) => !found.some((raw) => raw[META.id] === id));
        if (missing.length === 0) continue;
        const olds = await coll
          .find(
            {
              [META.scope]: scope,
              [META.id]: { $exists: false },
              _id: { $in: missing.flatMap(legacyIdCandidates) as never[] },
            },
            { session },
          )
          .toArray();
        for (const raw of olds) {
          const doc = fromMongoDoc(collection, raw);
          if (legacy.has(keyOf(collection, doc.id))) continue; // both "x" and ObjectId("x") exist: the first wins
          legacy.set(keyOf(collection, doc.id), raw._id);
          out.push(doc);
        }
      }
      return out;
    },

    async putDocs(docs: StoredDoc[]): Promise<void> {
      for (const doc of docs) sameScope(scope, doc.scope);
      if (lease) {
        // Standalone: nothing is written before the commit point; setHead writes these images after it.
        for (const doc of docs) {
          const legacyId = legacy.get(keyOf(doc.collection, doc.id));
          images.push({
            collection: doc.collection,
            id: doc.id,
            seq: doc.seq,
            doc: toMongoDoc(doc),
            ...(legacyId !== undefined ? { legacyId } : {}),
          });
        }
        await listCollections(docs);
        return;
      }
      for (const [collection, group] of groupBy(
        docs,
        (d) => d.collection,
        (d) => d,
      )) {
        const name = ctx.collectionName(collection);
        if (!ctx.indexed(name)) throw new MissingIndex(name);
        // Replace by (scope, id) and leave `_id` alone, so the app's own ids survive and two scopes may share an id;
        // a document stored without `_sync_id` is replaced by its `_id` (and gets `_sync_id`).
        const ops: AnyBulkWriteOperation<Document>[] = group.map((doc) => {
          const legacyId = legacy.get(keyOf(collection, doc.id));
          const filter: Document =
            legacyId !== undefined
              ? { _id: legacyId, [META.scope]: scope }
              : { [META.scope]: scope, [META.id]: doc.id };
          return {
            replaceOne: { filter, replacement: toMongoDoc(doc), upsert: legacyId === undefined },
          };
        });
        await ctx.db.collection(name).bulkWrite(ops, { session, ordered: true });
      }
      await listCollections(docs);
    },

    async appendOplog(entries: OplogEntry[]): Promise<void> {
      if (entries.length === 0) return;
      for (const e of entries) sameScope(scope, e.scope);
      if (!lease) {
        // Copies: insertMany adds `_id` to what it is given, and the entries are the engine's.
        await cols.oplog.insertMany(entries.map(oplogDocOf), { session, ordered: true });
        return;
      }
      await lease.assertHeld();
      const docs = attachRedo(entries.map(oplogDocOf), images, lease.owner);
      for (let attempt = 1; ; attempt++) {
        try {
          await cols.oplog.insertMany(
            docs.map((d) => ({ ...d })),
            { session, ordered: true },
          );
          return;
        } catch (error) {
          if (!isDuplicateKey(error) || attempt >= 3) throw error;
          // Entries above the head while we hold the lease belong to no commit (a writer that lost its
          // lease wrote them after we took over, or our own first attempt): clear them and write again.
          await lease.assertHeld();
          await cols.oplog.deleteMany({ scope, seq: { $gt: ctx.head.seq } }, { session });
        }
      }
    },

    async setHead(seq: number): Promise<void> {
      if (!lease) {
        await cols.scopes.updateOne({ _id: scope }, { $set: { seq } }, { session });
        state.committedSeq = seq;
        return;
      }
      // The commit point: compare-and-set under the lease. A writer whose lease expired cannot pass it.
      const res = await cols.scopes.updateOne(
        { _id: scope, leaseOwner: lease.owner, seq: seq - 1, pending: { $exists: false } },
        { $set: { pending: seq, pendingWriter: lease.owner } },
        { session },
      );
      if (res.matchedCount === 0)
        throw new SyncError('UNAVAILABLE', `scope lease lost before commit ${seq}; retry the push`);
      state.committedSeq = seq;
      // After the commit point: write the documents (a crash here is finished by the next lease holder),
      // then move the head readers see (a no-op when another holder already finished this commit).
      await writeImages(ctx.db, ctx.collectionName, scope, images, ctx.ensureIndex, session);
      await cols.scopes.updateOne(
        { _id: scope, pending: seq, pendingWriter: lease.owner },
        { $set: { seq }, $unset: { pending: '', pendingWriter: '' } },
        { session },
      );
      await cols.oplog
        .updateMany(
          { scope, seq, writer: lease.owner, redo: { $exists: true } },
          { $unset: { redo: '' } },
          { session },
        )
        .catch(() => undefined);
      images = [];
    },

    async addChecksums(deltas: ReadonlyMap<string, bigint>, seq: number): Promise<void> {
      // In the transaction, under the scope lock; on the lease path after the commit (not atomic with it).
      await addChecksums(cols.scopes, scope, deltas, seq, session);
    },

    async clientLedger(clientId: string): Promise<ClientLedger> {
      const doc = await cols.clients.findOne(
        { scope, clientId },
        { session, projection: { lastMutationId: 1, owner: 1 } },
      );
      return { lastMutationId: doc?.lastMutationId ?? 0, owner: doc?.owner ?? null };
    },

    async getResults(
      clientId: string,
      mutationIds: number[],
    ): Promise<Map<number, RecordedOutcome>> {
      const out = new Map<number, RecordedOutcome>();
      if (mutationIds.length === 0) return out;
      const found = await cols.mutations
        .find({ scope, clientId, mutationId: { $in: mutationIds } }, { session })
        .toArray();
      for (const doc of found) out.set(doc.mutationId, doc.result);
      return out;
    },

    async recordResults(
      clientId: string,
      lastMutationId: number,
      records: MutationRecord[],
      at: Date,
      owner: string,
    ): Promise<void> {
      if (records.length > 0) {
        // Upserts rather than inserts: a standalone retry after a partial write must not fail on them.
        const ops: AnyBulkWriteOperation<MutationDoc>[] = records.map((r) => ({
          replaceOne: {
            filter: { scope, clientId, mutationId: r.mutationId },
            replacement: { scope, clientId, mutationId: r.mutationId, result: r.result, at },
            upsert: true,
          },
        }));
        await cols.mutations.bulkWrite(ops, { session, ordered: true });
      }
      // $max: the last mutation id never moves back.
      await cols.clients.updateOne(
        { scope, clientId },
        { $max: { lastMutationId }, $set: { at, owner } },
        { session, upsert: true },
      );
    },
  };
}

function keyOf(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

/** Tenant isolation: a transaction on one scope never writes another scope's rows. */
function sameScope(scope: string, other: string): string {
  if (other !== scope)
    throw new SyncError(
      'INTERNAL',
      `write for scope "${other}" inside a transaction on "${scope}"`,
    );
  return scope;
}

/** Groups items by key, keeping first-seen key order. */
function groupBy<T, V>(
  items: readonly T[],
  key: (item: T) => string,
  value: (item: T) => V,
): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(value(item));
    else out.set(k, [value(item)]);
  }
  return out;
}

/**
 * An oplog entry as inserted: a copy (insertMany adds `_id` to what it is given), without a
 * `before` key when no pre-image is kept (the driver would write `undefined` as null, which
 * means "did not exist before").
 */
function oplogDocOf(entry: OplogEntry): OplogEntry {
  const doc = { ...entry };
  if (doc.before === undefined) delete doc.before;
  return doc;
}
