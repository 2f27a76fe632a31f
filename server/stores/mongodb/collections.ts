// Names, document shapes and indexes of the MongoDB store's collections.
import type { Collection, Db, IndexDescription } from 'mongodb';
import type { OplogEntry, RecordedOutcome } from '../store.js';

/** The store's own collections (the app's documents live in the app's collections). */
export const COLLECTIONS = {
  meta: 'sync_meta',
  scopes: 'sync_scopes',
  oplog: 'sync_oplog',
  clients: 'sync_clients',
  mutations: 'sync_mutations',
} as const;

/** `sync_meta`: one document per setting; `{ _id: 'epoch', value }` today. */
export interface MetaDoc {
  _id: string;
  value: string;
}

/** `sync_scopes`: a scope's commit counter, retention horizon and lock. */
export interface ScopeDoc {
  _id: string;
  seq: number;
  horizon: number;
  /** Bumped by every transaction first thing, so writers of one scope conflict and serialize. */
  lock?: number;
  /** Standalone servers only: the lease holder and its expiry. */
  leaseOwner?: string | null;
  leaseUntil?: Date;
  /** Synced collections with documents in this scope, so `scanDocs` knows where to look. */
  collections?: string[];
}

/** `sync_oplog`: one applied change with its post-image, exactly the Store contract's entry. */
export type OplogDoc = OplogEntry;

/** `sync_clients`: the last mutation id applied per (scope, client). */
export interface ClientDoc {
  scope: string;
  clientId: string;
  lastMutationId: number;
  /** userId the ledger belongs to; absent on ledgers written before owners were kept (claimed by the next pusher). */
  owner?: string;
  at: Date;
}

/** `sync_mutations`: a recorded push outcome, answered again on a retry. */
export interface MutationDoc {
  scope: string;
  clientId: string;
  mutationId: number;
  result: RecordedOutcome;
  at: Date;
}

/** Typed handles on the store's own collections. */
export interface StoreCollections {
  meta: Collection<MetaDoc>;
  scopes: Collection<ScopeDoc>;
  oplog: Collection<OplogDoc>;
  clients: Collection<ClientDoc>;
  mutations: Collection<MutationDoc>;
}

export function storeCollections(db: Db): StoreCollections {
  return {
    meta: db.collection<MetaDoc>(COLLECTIONS.meta),
    scopes: db.collection<ScopeDoc>(COLLECTIONS.scopes),
    oplog: db.collection<OplogDoc>(COLLECTIONS.oplog),
    clients: db.collection<ClientDoc>(COLLECTIONS.clients),
    mutations: db.collection<MutationDoc>(COLLECTIONS.mutations),
  };
}

/** Name of the TTL index on `sync_oplog.at` (its expiry is changed in place when the option changes). */
export const OPLOG_TTL_INDEX = 'sync_oplog_at_ttl';

/** Indexes of the store's own collections. Every query names its scope first. */
export function storeIndexes(retentionSeconds: number): Record<Exclude<keyof StoreCollections, 'meta' | 'scopes'>, IndexDescription[]> {
  return {
    oplog: [
      // readOplog: scope, then (seq, idx) order; unique, so one commit position holds one entry.
      { key: { scope: 1, seq: 1, idx: 1 }, name: 'sync_oplog_scope_seq_idx', unique: true },
      // findVersion: one document's post-image at one version.
      { key: { scope: 1, collection: 1, id: 1, version: 1 }, name: 'sync_oplog_scope_doc_version' },
      // prune by age, and the TTL backstop.
      { key: { at: 1 }, name: OPLOG_TTL_INDEX, expireAfterSeconds: retentionSeconds },
    ],
    clients: [{ key: { scope: 1, clientId: 1 }, name: 'sync_clients_scope_client', unique: true }],
    mutations: [
      { key: { scope: 1, clientId: 1, mutationId: 1 }, name: 'sync_mutations_scope_client_mutation', unique: true },
      { key: { at: 1 }, name: 'sync_mutations_at' },
    ],
  };
}

/**
 * The index every app collection holding synced documents gets: one document per (scope, id).
 * Partial, so the app's own documents without sync metadata stay out of it (and out of the
 * uniqueness check); every store query names `_sync_scope_id` by equality, which lets it use the index.
 */
export const DOC_INDEX: IndexDescription = {
  key: { _sync_scope_id: 1, _sync_id: 1 },
  name: 'sync_scope_id',
  unique: true,
  partialFilterExpression: { _sync_scope_id: { $exists: true } },
};
