/**
 * The `Store` contract: the I/O a sync store performs, nothing more. Stores know nothing of the
 * engine: merging, numbering rules and validation live above them, once. Every store runs the
 * one conformance suite in `test/conformance/`.
 */
import type { PushResult } from '../../shared/protocol.js';

/** Identifies a document inside a scope. */
export interface DocKey {
  collection: string;
  id: string;
}

/** A stored document with its sync metadata. */
export interface StoredDoc extends DocKey {
  scope: string;
  /**
   * Field values. A tombstone keeps the values it had when deleted (so an update under the
   * `resurrect_on_update` policy brings the whole document back); they are never sent to clients.
   */
  data: Record<string, unknown> | null;
  /**
   * Merge metadata: per-field HLC of the last write (removed fields included) plus the reserved
   * keys `_sync_deleted` (HLC of the delete flag) and `_sync_cleared` (HLC of the last whole upsert).
   * Stores keep it as an opaque JSON object.
   */
  fields: Record<string, string>;
  /** HLC of the document's latest change (the greatest of `fields`). */
  version: string;
  /** Commit sequence number of the scope's commit that last changed it. */
  seq: number;
  deleted: boolean;
  /** userId of the actor of the last change. */
  actor: string;
}

/** One applied change in the append-only oplog, with its post-image. */
export interface OplogEntry extends DocKey {
  scope: string;
  /** The commit's seq; all entries of one commit share it. */
  seq: number;
  /** Position inside the commit, from 0. */
  idx: number;
  op: 'upsert' | 'delete';
  /** Post-image of the document (`null` for a delete). */
  data: Record<string, unknown> | null;
  /**
   * Pre-image, for collections with read rules: the document's data before this entry (only the
   * fields the rules use, or all of it), `null` when it did not exist or was deleted. `undefined`
   * when not kept. Stores keep it as given and give it back as written (null and undefined apart).
   */
  before?: Record<string, unknown> | null;
  version: string;
  actor: string;
  clientId: string | null;
  mutationId: number | null;
  /** Commit time (retention is measured from it). */
  at: Date;
}

/**
 * What a retry of a mutation is answered with: its first outcome. The retry carries the
 * collection and id itself, so only the outcome is kept (ledger rows stay small).
 */
export type RecordedOutcome = Pick<PushResult, 'status' | 'version' | 'doc' | 'error'> & {
  /**
   * Digest of the change as it was sent (collection, id, op, data, base version, HLC): a retry is
   * answered `duplicate` only when it carries the same digest. Absent on outcomes recorded before
   * digests were kept (those are taken as the same change).
   */
  digest?: string;
};

/** A client id's ledger head in one scope. */
export interface ClientLedger {
  /** Last mutation id recorded for this client (0 = none). */
  lastMutationId: number;
  /**
   * userId of the user the ledger belongs to (the first to push under this client id); `null`
   * when none is recorded (a new client id, or a ledger written before owners were kept).
   */
  owner: string | null;
}

/** A recorded push outcome, answered again when the same mutation is retried. */
export interface MutationRecord {
  mutationId: number;
  result: RecordedOutcome;
}

/** A scope's commit counter and retention horizon. */
export interface ScopeHead {
  /** Seq of the scope's latest commit (0 = none yet). */
  seq: number;
  /** Highest seq whose oplog entries were pruned: a pull from below it needs a resync. */
  horizon: number;
  /**
   * Only when asked (`Store.head(scope, { checksums })`) and the store reads them with the head:
   * the asked collections' kept checksums as of `seq` (collections never written are left out).
   */
  checksums?: CollectionChecksum[];
}

/**
 * One collection's integrity checksum in a scope (see `shared/checksum.ts`): the sum mod 2^64 of
 * its live documents' hashes, and the seq of the last commit that changed it (so a reader knows
 * whether the sum it read is the one at a given checkpoint).
 */
export interface CollectionChecksum {
  collection: string;
  sum: bigint;
  seq: number;
}

/** Work done inside one transaction on one scope. */
export interface StoreTx {
  /** The scope's head when the transaction took the scope's lock. */
  readonly head: ScopeHead;
  getDocs(keys: DocKey[]): Promise<StoredDoc[]>;
  /** Inserts or replaces documents (by scope, collection, id). */
  putDocs(docs: StoredDoc[]): Promise<void>;
  appendOplog(entries: OplogEntry[]): Promise<void>;
  /** Moves the scope's counter to `seq` (always `head.seq + 1`); listeners hear of it after commit. */
  setHead(seq: number): Promise<void>;
  /** This client id's ledger head in this scope (`{ lastMutationId: 0, owner: null }` = none). */
  clientLedger(clientId: string): Promise<ClientLedger>;
  /** Recorded outcomes of earlier mutations of this client, by mutation id. */
  getResults(clientId: string, mutationIds: number[]): Promise<Map<number, RecordedOutcome>>;
  /** Records outcomes, moves the client's last mutation id to `lastMutationId` and its owner to `owner`. */
  recordResults(
    clientId: string,
    lastMutationId: number,
    records: MutationRecord[],
    at: Date,
    owner: string,
  ): Promise<void>;
  /**
   * Integrity checksums: adds each delta (mod 2^64) to its collection's kept sum (a missing sum
   * counts as 0) and stamps it with `seq`. The engine calls it once per commit with the
   * collections the commit touched (and `verifyChecksums` to reset drifted sums). Optional: a
   * store without it (and without `Store.checksums`) keeps none, and the engine sends none.
   */
  addChecksums?(deltas: ReadonlyMap<string, bigint>, seq: number): Promise<void>;
}

/** Told after a commit (`commit`), or when notifications may have been missed (`reset`). */
export type StoreEvent = { type: 'commit'; scope: string; seq: number } | { type: 'reset' };

export interface ReadOplogOptions {
  /** Entries with seq above this. */
  afterSeq: number;
  /** Entries with seq at most this. */
  uptoSeq?: number;
  /** At most this many entries (the engine completes a cut commit itself). */
  limit?: number;
  /** Only these collections. */
  collections?: readonly string[];
  /**
   * For these collections, only entries whose post-image (`data`) or pre-image (`before`)
   * matches any of the filters, or that keep no pre-image: the entries a view can show. A store
   * may return more (the engine judges each entry); it must not return fewer. Other collections
   * of `collections` are read whole.
   */
  match?: ReadonlyMap<string, readonly DocMatch[]>;
  /**
   * With `match`: entries this user wrote are kept too, matching or not (the engine answers a
   * view's reader its own writes that fall outside the view with a "left view" removal). A store
   * may ignore `match` altogether when it cannot express this; it must not return fewer.
   */
  keepWriter?: string;
}

/** How much history the oplog holds (all scopes), for `sync_oplog_entries` and `/sync/status`. */
export interface OplogStats {
  /** Oplog entries held, all scopes together. */
  entries: number;
  /**
   * Whether `entries` is an estimate (PostgreSQL planner statistics on a large table, MongoDB's
   * collection metadata) rather than an exact count.
   */
  estimated: boolean;
  /**
   * Commit time of the oldest entry still held (`null`: empty). Retention removes entries older
   * than the retention window, so this is how far back incremental pulls reach; each scope's
   * `horizon` seq moves with it.
   */
  oldestAt: Date | null;
  /** Commit time of the newest entry (`null`: empty). */
  newestAt: Date | null;
}

/** A filter value a store compares with a top-level field (a missing field counts as `null`). */
export type MatchValue = string | number | boolean | null;

/**
 * The pseudo-field of a document's last writer (`StoredDoc.actor`) in a `DocMatch` and an
 * `IndexSpec`: stores answer it from their writer column (PostgreSQL/PGlite `docs.actor`, MongoDB
 * `_sync_actor_id`), never from the document's data.
 */
export const WRITER_FIELD = '$writer';

/**
 * The key of an oplog pre-image (`OplogEntry.before`) holding the previous writer's userId. In the
 * reserved `_sync_` prefix, so no data field can hold it (and MongoDB stores it in any version).
 */
export const BEFORE_WRITER_KEY = '_sync_writer';

/**
 * A document filter for `scanDocs`: every field equals one of its values (AND over fields, OR
 * over values). Fields are plain identifiers, or `WRITER_FIELD` (the last writer's userId);
 * values compare as JSON (1 = 1.0, "1" ≠ 1).
 */
export type DocMatch = Record<string, readonly MatchValue[]>;

/** Fields of a collection that view filters use (indexed by `Store.ensureIndexes`). */
export interface IndexSpec {
  collection: string;
  fields: readonly string[];
}

export interface ScanDocsOptions {
  collections?: readonly string[];
  /**
   * Only live documents (no tombstones) matching any of these filters. Stores answer it through
   * the indexes `ensureIndexes` made, not by scanning the scope.
   */
  match?: readonly DocMatch[];
  /** Keyset position: documents after this (collection, id), in that order. */
  after?: DocKey | null;
  limit: number;
}

/**
 * A sync store. All reads and writes name their scope; nothing crosses scopes.
 */
export interface Store {
  /** `memory`, `pglite`, `postgres` or `mongodb`. */
  readonly kind: string;
  /** Creates tables/collections and indexes if missing (idempotent), reads the epoch. */
  init(): Promise<void>;
  /** Random id made when the store's tables were first created; part of every checkpoint. */
  epoch(): string;
  /**
   * Runs `fn` in one transaction on `scope`. The scope's lock is taken first, so writers of one
   * scope commit one at a time and seq order is commit order. Commits when `fn` resolves, rolls
   * back when it throws (stores without transactions document what they guarantee instead).
   */
  transaction<T>(scope: string, fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * The scope's head. With `options.checksums` (collection names), a store that can also returns
   * those collections' kept integrity checksums read in the same snapshot as `seq`
   * (`ScopeHead.checksums`), saving the engine a second read on pulls.
   */
  head(scope: string, options?: { checksums?: readonly string[] }): Promise<ScopeHead>;
  /** Oplog entries of a scope ordered by (seq, idx). */
  readOplog(scope: string, options: ReadOplogOptions): Promise<OplogEntry[]>;
  /** The post-image of a document at a version, when the oplog still holds it (for resolvers). */
  findVersion(
    scope: string,
    key: DocKey,
    version: string,
  ): Promise<Record<string, unknown> | null | undefined>;
  /** Current documents (tombstones included) ordered by (collection, id), one keyset page. */
  scanDocs(scope: string, options: ScanDocsOptions): Promise<StoredDoc[]>;
  /**
   * The kept integrity checksums of a scope (all collections, or these), as committed; collections
   * never written have none. Optional, with `StoreTx.addChecksums`.
   */
  checksums?(scope: string, collections?: readonly string[]): Promise<CollectionChecksum[]>;
  /**
   * Creates indexes on these collections' fields (idempotent), so `scanDocs` with `match` is an
   * index read. Optional: a store without it scans.
   */
  ensureIndexes?(specs: readonly IndexSpec[]): Promise<void>;
  /** Removes oplog entries and mutation outcomes committed before `before`; advances horizons. */
  prune(before: Date): Promise<{ removed: number }>;
  /** Size and age span of the oplog; cheap enough to call on every metrics scrape. */
  oplogStats(): Promise<OplogStats>;
  /** Subscribes to commits of every scope (across processes where the database allows). */
  onEvent(listener: (event: StoreEvent) => void): () => void;
  close(): Promise<void>;
}
