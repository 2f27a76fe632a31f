/** The `LocalStore` contract: documents, the outbox and a little metadata, behind async methods any device store can implement. */
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
}

/** A local change waiting to be pushed: exactly the wire change, so retries resend the same bytes. */
export type OutboxEntry = ChangeInput & { data: DocData | null; baseVersion: string | null; hlc: string };

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

/** Key-value metadata a client keeps next to its documents. */
export interface LocalMeta {
  /** Where the next pull starts (`null`: from the beginning). */
  checkpoint: string | null;
  /** This device's id, sent with every push (mutation ids are counted per client id). */
  clientId: string;
  /** The mutation id the next local change gets (strictly increasing). */
  nextMutationId: number;
  /** The last HLC this client made or received, so a restarted clock never goes backwards. */
  hlc: string;
  /** Local changes the server refused, oldest first (see `RejectedChange`); kept until the app clears them. */
  rejected: RejectedChange[];
}

/** One write of an atomic `LocalStore.write()` batch. */
export type LocalWrite =
  | { type: 'putDoc'; doc: LocalDoc }
  | { type: 'deleteDoc'; collection: string; id: string }
  | { type: 'appendOutbox'; entry: OutboxEntry }
  | { type: 'removeOutbox'; mutationIds: number[] }
  | { [K in keyof LocalMeta]: { type: 'setMeta'; key: K; value: LocalMeta[K] } }[keyof LocalMeta];

/** Which outbox entries to list. */
export interface OutboxQuery {
  /** At most this many, lowest mutation ids first. */
  limit?: number;
  /** Only the entries of this document (both fields given) or collection. */
  collection?: string;
  id?: string;
}

/**
 * Where a sync client keeps its state. Every method is async so IndexedDB, SQLite or an
 * AsyncStorage-like key-value store can implement it; `write()` must apply its batch atomically
 * (a crash must never leave a document changed without its outbox entry).
 *
 * @example
 * const store: LocalStore = memoryLocalStore();
 * await store.write([{ type: 'setMeta', key: 'checkpoint', value: 'c1.abc.9' }]);
 * await store.getMeta('checkpoint'); // 'c1.abc.9'
 */
export interface LocalStore {
  /** One document, or `null` when the store has none under that key. */
  getDoc(collection: string, id: string): Promise<LocalDoc | null>;
  /** Every document of a collection (tombstones included), or of all collections. */
  listDocs(collection?: string): Promise<LocalDoc[]>;
  /** Outbox entries in mutation id order. */
  listOutbox(query?: OutboxQuery): Promise<OutboxEntry[]>;
  /** A metadata value, or `null` when never set. */
  getMeta<K extends keyof LocalMeta>(key: K): Promise<LocalMeta[K] | null>;
  /** Applies the writes in order, all or nothing. */
  write(writes: LocalWrite[]): Promise<void>;
  /** Releases the store's resources. */
  close?(): Promise<void>;
}
