/** The events a sync client emits: local/server changes, conflicts, resyncs, errors and finished syncs. */
import type { SyncIssue } from '../shared/errors.js';
import type { IntegrityEvent } from './integrity.js';
import type { DocData, OutboxEntry } from './local-store.js';

export type { IntegrityEvent } from './integrity.js';
import type { StatusDetail } from './status.js';

/** Documents of one collection changed in the local store. */
export interface ChangeEvent {
  collection: string;
  ids: string[];
  /** `local`: an app write; `server`: pulled, streamed, a push answer or a resync. */
  source: 'local' | 'server';
}

/** The server did not store a local change as sent. */
export interface ConflictEvent {
  status: 'conflict_resolved' | 'rejected';
  collection: string;
  id: string;
  mutationId: number;
  /** The local change as it was pushed. */
  change: OutboxEntry;
  /** `conflict_resolved`: what the server stored (`null`: the document is deleted). */
  doc?: DocData | null;
  /**
   * `rejected`: why. A per-change code (`INVALID_DOCUMENT`, `FORBIDDEN`, …), or `BAD_REQUEST` /
   * `PAYLOAD_TOO_LARGE` with the server's field `issues` when it refused a push holding only this change.
   */
  error?: { code: string; message: string; issues?: SyncIssue[] };
  /** True when this answer came back for a retried push (`duplicate` with its original outcome). */
  duplicate: boolean;
}

/** The local store was rebuilt from a full export. */
export interface ResyncEvent {
  docs: number;
  checkpoint: string;
}

/** Something failed; sync keeps the outbox and tries again later. */
export interface ErrorEvent {
  where: 'push' | 'pull' | 'resync' | 'stream' | 'view';
  error: unknown;
}

/** One `sync()` (or live push) finished. */
export interface SyncedEvent {
  pushed: number;
  pulled: number;
}

/** How far a push, pull or full resync has got (`total` when known up front). */
export interface ProgressEvent {
  phase: 'push' | 'pull' | 'full';
  done: number;
  total?: number;
  /** The subscription key of the view this pull or rebuild is about (absent: the default request, or a push). */
  view?: string;
}

/**
 * The sync status changed, or the code of its reason did (see `SyncClient.status()`): `status`,
 * `reason` (`{ code, message, since }` for `offline`, `stalled`, `error`, `upgrade-required`), and
 * the outbox at that moment (`pending`, `oldestPendingAgeMs`).
 */
export interface StatusEvent extends StatusDetail {}

/**
 * The server refused this device's client id (CLIENT_ID_CONFLICT: the local store was copied from
 * another device, e.g. a restored backup, or the id is another user's). The client took a new id,
 * renumbered its outbox under it (nothing is lost) and pushes it again.
 */
export interface ClientIdEvent {
  previous: string;
  clientId: string;
  /** Outbox entries renumbered under the new id. */
  renumbered: number;
  /** Entries the server already held as these very changes (settled, not sent again). */
  recorded: number;
}

/** Event name → payload. */
export interface SyncClientEvents extends Record<string, unknown> {
  change: ChangeEvent;
  conflict: ConflictEvent;
  resync: ResyncEvent;
  error: ErrorEvent;
  synced: SyncedEvent;
  progress: ProgressEvent;
  status: StatusEvent;
  clientId: ClientIdEvent;
  integrity: IntegrityEvent;
}
