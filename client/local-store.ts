/**
 * The `LocalStore` contract: documents, the outbox and a little metadata behind async methods any
 * device store can implement (memory, IndexedDB, SQLite, key-value). Every method costs what it
 * touches: a write is O(batch), documents are read by key, the outbox by range, collections in
 * pages; nothing ever copies the whole store.
 */
import type { SyncIssue } from '../shared/errors.js';
import type { ChangeInput } from '../shared/protocol.js';

/** JSON object data of one document. */
export type DocData = Record<string, unknown>;

/**
 * One document as the client holds it. `data` is what the app sees (the server state with the
 * pending outbox changes re-applied on top); `server` is the last state the server confirmed.
 * A deleted or never-created document has `data: null`.
 */
export interface LocalDoc {
  collection: string;
  id: string;
  /** What the app sees; `null`: deleted (or only ever deleted locally). */
  data: DocData | null;
  /** Version of the last server state seen (the `baseVersion` of the next edit); `null`: unknown to the server. */
  version: string | null;
  /** Last server-confirmed data; `null`: absent or deleted on the server (as far as we know). */
  server: DocData | null;
  /** True while the outbox holds changes of this document (kept by the client, stored as is). */
  pending?: boolean;
  /** The full-resync pass that last wrote this document (kept by the client, stored as is). */
  mark?: string | null;
  /**
   * The views (subscription keys; `''` for the default request) that delivered this document, each
   * with the rebuild pass that last confirmed it (`''` outside a rebuild). Kept by the client,
   * stored as is. Absent: a document no view has delivered (created here, or stored before views);
   * `{}`: it left every view while it had pending writes, and leaves the device once they are pushed.
   */
  views?: Record<string, string> | null;
}

/** A local change waiting to be pushed: exactly the wire change, so retries resend the same bytes. */
export type OutboxEntry = ChangeInput & {
  data: DocData | null;
  baseVersion: string | null;
  hlc: string;
};

/**
 * A local change the server refused: taken out of the outbox (so later writes are not stuck behind
 * it) and kept here until the app clears it, so it can be shown to the user or re-done.
 */
export interface RejectedChange {
  /** The outbox entry exactly as it was pushed. */
  change: OutboxEntry;
  /**
   * Why: a per-change code (`INVALID_DOCUMENT`, `FORBIDDEN`, …) when the server answered it
   * `rejected`, or `BAD_REQUEST` / `PAYLOAD_TOO_LARGE` when it refused a push holding only this
   * change; `issues` are the server's field issues for that push (paths like `changes.0.data.title`).
   */
  error: { code: string; message: string; issues?: SyncIssue[] };
  /** `result`: a `rejected` push result (the rest of its batch went through); `request`: the whole request was refused. */
  kind: 'result' | 'request';
  /** When the client recorded it (ISO time). */
  at: string;
}

/** A full resync under way: stored when it starts, updated per page, removed when it ends. */
export interface ResyncState {
  /** Written into `LocalDoc.mark` of every document a page of this pass stores. */
  mark: string;
  /** The next page's cursor (`null`: start from the first page). */
  cursor: string | null;
  /** The export's checkpoint, once the first page is in. */
  checkpoint: string | null;
  /** Documents stored so far. */
  done: number;
}

/**
 * One subscription (`client.subscribe(rule, params)`) as the local store keeps it, with the view's own
 * checkpoint and, while one runs, its rebuild from `full({ view })`.
 */
export interface ViewState {
  /** The subscription key: the rule name and the canonical JSON of its params (see `viewKey`). */
  key: string;
  rule: string;
  /** The params as given (`null`: none). */
  params: Record<string, unknown> | null;
  /** The collection the view's documents belong to, once one has arrived (what its sweeps scan). */
  collection: string | null;
  /** Where the view's next pull starts (`null`: its first full has not completed). */
  checkpoint: string | null;
  /** A rebuild of this view under way (first sync, or after RESYNC_REQUIRED); `null` when none. */
  rebuild: ResyncState | null;
  /** True once the view's first full is local. */
  ready: boolean;
  /** True once `unsubscribe()` began: its sweep is finished before anything else is done with it. */
  leaving: boolean;
  /** When it was subscribed (ISO time). */
  at: string;
}

/** Key-value metadata a client keeps next to its documents. */
export interface LocalMeta {
  /** Where the next pull starts (`null`: from the beginning). */
  checkpoint: string | null;
  /** This device's id, sent with every push (mutation ids are counted per client id). */
  clientId: string;
  /**
   * The app's `clientId` option this store's `clientId` stems from: when the server refused that id
   * (CLIENT_ID_CONFLICT) the client took a new one, and keeps it although the app still passes the old.
   */
  clientIdGiven: string;
  /** This device's HLC node id: random, apart from the client id, so versions never reveal a client id. */
  nodeId: string;
  /** The mutation id the next local change gets (strictly increasing). */
  nextMutationId: number;
  /** The last HLC this client made or received, so a restarted clock never goes backwards. */
  hlc: string;
  /** Local changes the server refused, oldest first (see `RejectedChange`); kept until the app clears them. */
  rejected: RejectedChange[];
  /** A full resync that has not finished (see `ResyncState`); `null` or absent when none is under way. */
  resync: ResyncState | null;
  /**
   * Integrity checksums of the server state held, by collection (16 hex digits, see
   * `client/integrity.ts`), kept in the same write as each change to a document's server state.
   */
  checksums: Record<string, string>;
  /** The subscriptions, by key (see `ViewState`): they survive restarts with their checkpoints and rebuild cursors. */
  views: Record<string, ViewState>;
  /**
   * Collections the server serves through views (read rules), as learned from what views delivered
   * and from `left` removals; kept after an unsubscribe. A document of such a collection that no
   * read delivered stays on the device only while it is this device's own write (see
   * `Replica.settleAll`).
   */
  viewCollections: string[];
}

/** One write of an atomic `LocalStore.write()` batch. */
export type LocalWrite =
  | { type: 'putDoc'; doc: LocalDoc }
  | { type: 'deleteDoc'; collection: string; id: string }
  | { type: 'appendOutbox'; entry: OutboxEntry }
  | { type: 'removeOutbox'; mutationIds: number[] }
  | { [K in keyof LocalMeta]: { type: 'setMeta'; key: K; value: LocalMeta[K] } }[keyof LocalMeta];

/** Which outbox entries to list (always in mutation id order, lowest first). */
export interface OutboxQuery {
  /** Only entries with a mutation id above this one. */
  afterMutationId?: number;
  /** At most this many. */
  limit?: number;
  /** Only the entries of this collection, or of this document (with `id`). */
  collection?: string;
  id?: string;
}

/** A page of a collection's documents in id order (tombstones included). */
export interface DocPage {
  /** Only documents whose id sorts after this one (the last id of the previous page). */
  after?: string;
  /** At most this many. @default 500 */
  limit?: number;
}

/** A JSON scalar a query can match a field against. */
export type QueryValue = string | number | boolean | null;

/**
 * A query over one collection's live documents (tombstones never match). `where` matches top-level
 * fields by equality (`null` matches a missing field too); results are ordered by `orderBy`, ties
 * by id ascending (also when descending). Ordering is defined for fields that hold numbers, strings or booleans; a missing field
 * sorts first.
 */
export interface DocQuery {
  where?: Record<string, QueryValue>;
  orderBy?: { field: string; direction?: 'asc' | 'desc' };
  limit?: number;
  offset?: number;
}

/**
 * Where a sync client keeps its state. Every method is async so IndexedDB, SQLite or an
 * AsyncStorage-like key-value store can implement it. `write()` applies its batch atomically (a
 * crash never leaves a document changed without its outbox entry) and in order; it refuses (and
 * then writes nothing) an `appendOutbox` whose mutation id is not above every id already in the
 * outbox.
 *
 * @example
 * const store: LocalStore = memoryLocalStore();
 * await store.write([{ type: 'setMeta', key: 'checkpoint', value: 'c1.abc.9' }]);
 * await store.getMeta('checkpoint'); // 'c1.abc.9'
 */
export interface LocalStore {
  /** One document, or `null` when the store has none under that key. */
  getDoc(collection: string, id: string): Promise<LocalDoc | null>;
  /** Several documents of one collection by id, in the order asked (`null` where absent). */
  getDocs(collection: string, ids: readonly string[]): Promise<(LocalDoc | null)[]>;
  /** One page of a collection's documents in id order, tombstones included. */
  listDocs(collection: string, page?: DocPage): Promise<LocalDoc[]>;
  /** How many live (not deleted) documents a collection holds, without loading them. */
  countDocs(collection: string): Promise<number>;
  /** Live documents matching `query` (see `DocQuery`), answered with the store's indexes where it has them. */
  queryDocs(collection: string, query: DocQuery): Promise<LocalDoc[]>;
  /** Outbox entries in mutation id order. */
  listOutbox(query?: OutboxQuery): Promise<OutboxEntry[]>;
  /** How many entries the outbox holds. */
  countOutbox(): Promise<number>;
  /** A metadata value, or `null` when never set. */
  getMeta<K extends keyof LocalMeta>(key: K): Promise<LocalMeta[K] | null>;
  /** Applies the writes in order, all or nothing. */
  write(writes: LocalWrite[]): Promise<void>;
  /**
   * Runs `task` while no other client on the same data (another tab, another window) runs one:
   * every read-modify-write of the client goes through it, so two tabs never hand out the same
   * mutation id. Stores only one process can open need not provide it.
   */
  exclusive?<T>(task: () => Promise<T>): Promise<T>;
  /** Releases the store's resources. */
  close?(): Promise<void>;
}

/** The default page size of `listDocs`. */
export const DEFAULT_PAGE = 500;
