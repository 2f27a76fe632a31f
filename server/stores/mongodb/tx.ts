// The StoreTx of the MongoDB store: the reads and writes of one push on one scope, in one session.
import type { AnyBulkWriteOperation, ClientSession, Db, Document } from 'mongodb';
import { SyncError } from '../../../shared/errors.js';
import type { ClientLedger, DocKey, MutationRecord, OplogEntry, ScopeHead, StoredDoc, StoreTx, RecordedOutcome } from '../store.js';
import type { MutationDoc, StoreCollections } from './collections.js';
import { fromMongoDoc, META, toMongoDoc } from './documents.js';

/** What one run of a transaction did, read by the store after it committed. */
export interface TxState {
  /** The seq `setHead` moved the scope to; `null` when nothing was committed. */
  committedSeq: number | null;
  /** MongoDB collections written to, so their index can be ensured after the commit. */
  written: Set<string>;
}

export interface TxContext {
  db: Db;
  cols: StoreCollections;
  scope: string;
  head: ScopeHead;
  /** Synced collections already listed on the scope document. */
  knownCollections: readonly string[];
  collectionName: (collection: string) => string;
  /** The transaction's session; absent on a standalone server (each write stands alone). */
  session?: ClientSession;
  /** Standalone only: the lease this writer holds; `setHead` checks it is still held. */
  leaseOwner?: string;
}

/**
 * Builds the StoreTx. Operations run one after another (never in parallel): MongoDB transactions
 * do not support concurrent operations on one session.
 */
export function createTx(ctx: TxContext, state: TxState): StoreTx {
  const { cols, scope, session } = ctx;
  const known = new Set(ctx.knownCollections);

  return {
    head: ctx.head,

    async getDocs(keys: DocKey[]): Promise<StoredDoc[]> {
      const out: StoredDoc[] = [];
      for (const [collection, ids] of groupBy(keys, (k) => k.collection, (k) => k.id)) {
        const found = await ctx.db
          .collection(ctx.collectionName(collection))
          .find({ [META.scope]: scope, [META.id]: { $in: [...new Set(ids)] } }, { session })
          .toArray();
        for (const raw of found) out.push(fromMongoDoc(collection, raw));
      }
      return out;
    },

    async putDocs(docs: StoredDoc[]): Promise<void> {
      for (const [collection, group] of groupBy(docs, (d) => d.collection, (d) => d)) {
        const name = ctx.collectionName(collection);
        // Replace by (scope, id) and leave `_id` alone, so the app's own ids survive and two scopes may share an id.
        const ops: AnyBulkWriteOperation<Document>[] = group.map((doc) => ({
          replaceOne: {
            filter: { [META.scope]: sameScope(scope, doc.scope), [META.id]: doc.id },
            replacement: toMongoDoc(doc),
            upsert: true,
          },
        }));
        await ctx.db.collection(name).bulkWrite(ops, { session, ordered: true });
        state.written.add(name);
      }
      const added = [...new Set(docs.map((d) => d.collection))].filter((c) => !known.has(c));
      if (added.length > 0) {
        await cols.scopes.updateOne({ _id: scope }, { $addToSet: { collections: { $each: added } } }, { session });
        for (const c of added) known.add(c);
      }
    },

    async appendOplog(entries: OplogEntry[]): Promise<void> {
      if (entries.length === 0) return;
      // Copies: insertMany adds `_id` to what it is given, and the entries are the engine's.
      const docs = entries.map((e) => ({ ...e, scope: sameScope(scope, e.scope) }));
      await cols.oplog.insertMany(docs, { session, ordered: true });
    },

    async setHead(seq: number): Promise<void> {
      if (ctx.leaseOwner === undefined) {
        await cols.scopes.updateOne({ _id: scope }, { $set: { seq } }, { session });
      } else {
        // Standalone: compare-and-set under the lease, so a writer whose lease expired cannot move the counter.
        const res = await cols.scopes.updateOne({ _id: scope, leaseOwner: ctx.leaseOwner, seq: seq - 1 }, { $set: { seq } });
        if (res.matchedCount === 0) {
          throw new SyncError('UNAVAILABLE', `scope lease lost before commit ${seq}; retry the push`);
        }
      }
      state.committedSeq = seq;
    },

    async clientLedger(clientId: string): Promise<ClientLedger> {
      const doc = await cols.clients.findOne({ scope, clientId }, { session, projection: { lastMutationId: 1, owner: 1 } });
      return { lastMutationId: doc?.lastMutationId ?? 0, owner: doc?.owner ?? null };
    },

    async getResults(clientId: string, mutationIds: number[]): Promise<Map<number, RecordedOutcome>> {
      const out = new Map<number, RecordedOutcome>();
      if (mutationIds.length === 0) return out;
      const found = await cols.mutations.find({ scope, clientId, mutationId: { $in: mutationIds } }, { session }).toArray();
      for (const doc of found) out.set(doc.mutationId, doc.result);
      return out;
    },

    async recordResults(clientId: string, lastMutationId: number, records: MutationRecord[], at: Date, owner: string): Promise<void> {
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
      await cols.clients.updateOne({ scope, clientId }, { $max: { lastMutationId }, $set: { at, owner } }, { session, upsert: true });
    },
  };
}

/** Tenant isolation: a transaction on one scope never writes another scope's rows. */
function sameScope(scope: string, other: string): string {
  if (other !== scope) throw new SyncError('INTERNAL', `write for scope "${other}" inside a transaction on "${scope}"`);
  return scope;
}

/** Groups items by key, keeping first-seen key order. */
function groupBy<T, V>(items: readonly T[], key: (item: T) => string, value: (item: T) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(value(item));
    else out.set(k, [value(item)]);
  }
  return out;
}
