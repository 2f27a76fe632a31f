// Names, document shapes and indexes of the MongoDB store's collections.
import type { Collection, Db, IndexDescription } from 'mongodb';
import type { OplogEntry, RecordedOutcome } from '../store.js';

/** The store's own collections, by role; their names are `prefix + role` (the app's documents live in the app's collections). */
export const COLLECTION_ROLES = ['meta', 'scopes', 'oplog', 'clients', 'mutations'] as const;

/** The default prefix of the store's own collections (`sync_meta`, `sync_scopes`, `sync_oplog`, …). */
export const DEFAULT_PREFIX = 'sync_';

/** Names of the store's own collections for a prefix. */
export function collectionNames(prefix: string): Record<(typeof COLLECTION_ROLES)[number], string> {
  return {
    meta: `${prefix}meta`,
    scopes: `${prefix}scopes`,
    oplog: `${prefix}oplog`,
    clients: `${prefix}clients`,
    mutations: `${prefix}mutations`,
  };
}

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
  /** Standalone servers only: the lease holder and its expiry (server clock). */
  leaseOwner?: string | null;
  leaseUntil?: Date;
  /**
   * Standalone servers only: the seq of a commit past its commit point (set by the compare-and-set
   * under the lease) whose documents are being written; `seq` moves to it once they are. Readers
   * see `seq` only, and the next lease holder finishes a pending commit from its redo images.
   */
  pending?: number;
  /** Standalone servers only: the lease owner that wrote the pending commit. */
  pendingWriter?: string;
  /** Synced collections with documents in this scope, so `scanDocs` knows where to look. */
  collections?: string[];
}

/** A document image a standalone commit writes after its commit point, kept for the next lease holder. */
export interface RedoImage {
  collection: string;
  id: string;
  seq: number;
  /** The document as `toMongoDoc` makes it. */
  doc: Record<string, unknown>;
  /** `_id` of a document stored without `_sync_id` (written by another program), replaced in place. */
  legacyId?: unknown;
}

/**
 * `sync_oplog`: one applied change with its post-image, the Store contract's entry plus, on
 * standalone servers, the writer (lease owner) and the redo images of the commit's documents.
 */
export type OplogDoc = OplogEntry & { writer?: string; redo?: RedoImage[] };

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

/** Handles on the store's own collections under `prefix`. */
export function storeCollections(db: Db, prefix: string = DEFAULT_PREFIX): StoreCollections {
  const names = collectionNames(prefix);
  return {
    meta: db.collection<MetaDoc>(names.meta),
    scopes: db.collection<ScopeDoc>(names.scopes),
    oplog: db.collection<OplogDoc>(names.oplog),
    clients: db.collection<ClientDoc>(names.clients),
    mutations: db.collection<MutationDoc>(names.mutations),
  };
}

/**
 * Name of the TTL index earlier versions put on `sync_oplog.at`. `init()` drops it: the TTL monitor
 * deletes entries without moving the scope's horizon, so pulls could silently miss history.
 */
export const LEGACY_TTL_INDEX = 'sync_oplog_at_ttl';

/** Indexes of the store's own collections. Every query names its scope first. */
export function storeIndexes(): Record<
  Exclude<keyof StoreCollections, 'meta' | 'scopes'>,
  IndexDescription[]
> {
  return {
    oplog: [
      // readOplog and prune: scope, then (seq, idx) order; unique, so one commit position holds one entry.
      { key: { scope: 1, seq: 1, idx: 1 }, name: 'sync_oplog_scope_seq_idx', unique: true },
      // findVersion: one document's post-image at one version.
      { key: { scope: 1, collection: 1, id: 1, version: 1 }, name: 'sync_oplog_scope_doc_version' },
      // prune finds the scopes with old entries, oplogStats the age span. No TTL: only prune deletes history.
      { key: { at: 1 }, name: 'sync_oplog_at' },
      // prune: a scope's highest seq older than the cutoff.
      { key: { scope: 1, at: 1 }, name: 'sync_oplog_scope_at' },
    ],
    clients: [{ key: { scope: 1, clientId: 1 }, name: 'sync_clients_scope_client', unique: true }],
    mutations: [
      {
        key: { scope: 1, clientId: 1, mutationId: 1 },
        name: 'sync_mutations_scope_client_mutation',
        unique: true,
      },
      { key: { at: 1 }, name: 'sync_mutations_at' },
    ],
  };
}

/**
 * Name of the app-collection index of earlier versions: unique on `{_sync_scope_id, _sync_id}` for
 * every document with `_sync_scope_id`, so a second document without `_sync_id` in a scope (what a
 * still-running fastapi-offline-sync server inserts) failed with E11000. `init()` drops it.
 */
export const LEGACY_DOC_INDEX = 'sync_scope_id';

/**
 * The unique index every app collection holding synced documents gets: one document per (scope, id).
 * Partial on both fields existing, so the app's own documents and documents another program wrote
 * without `_sync_id` stay out of the uniqueness check.
 */
export const DOC_INDEX: IndexDescription = {
  key: { _sync_scope_id: 1, _sync_id: 1 },
  name: 'sync_doc_id',
  unique: true,
  partialFilterExpression: { _sync_scope_id: { $exists: true }, _sync_id: { $exists: true } },
};

/**
 * Finds a scope's documents stored without `_sync_id` (`{_sync_scope_id: s, _sync_id: null}`), whose
 * id is the string form of `_id`; not unique.
 */
export const LEGACY_LOOKUP_INDEX: IndexDescription = {
  key: { _sync_scope_id: 1, _sync_id: 1, _id: 1 },
  name: 'sync_doc_scope_legacy',
  partialFilterExpression: { _sync_scope_id: { $exists: true } },
};
