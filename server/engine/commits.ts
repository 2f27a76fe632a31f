/**
 * Reading whole commits from the oplog: the one catch-up routine shared by pull, the stream and
 * the live feed. A page is cut only between seqs, so no reader ever holds part of a push.
 */
import { SyncError } from '../../shared/errors.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../shared/checkpoint.js';
import type { ChangeOut } from '../../shared/protocol.js';
import type { OplogEntry, ReadOplogOptions, ScopeHead, Store } from '../stores/store.js';

/** Whole commits read after a seq. */
export interface CommitPage {
  entries: OplogEntry[];
  /** Seq of the last commit in the page (null when empty). */
  lastSeq: number | null;
  hasMore: boolean;
}

/** Reads at least `limit` entries (fewer only at the end), completing the last commit. */
export async function readCommits(
  store: Store,
  scope: string,
  afterSeq: number,
  limit: number,
  collections?: readonly string[],
  match?: ReadOplogOptions['match'],
  keepWriter?: string,
): Promise<CommitPage> {
  const first = await store.readOplog(scope, {
    afterSeq,
    limit: limit + 1,
    collections,
    match,
    keepWriter,
  });
  if (first.length <= limit)
    return { entries: first, lastSeq: first.at(-1)?.seq ?? null, hasMore: false };
  const cut = first[limit - 1]!.seq;
  if (first[limit]!.seq > cut)
    return { entries: first.slice(0, limit), lastSeq: cut, hasMore: true };
  // The (limit+1)th entry belongs to the same commit: read that commit whole.
  const rest = await store.readOplog(scope, {
    afterSeq: cut - 1,
    uptoSeq: cut,
    collections,
    match,
    keepWriter,
  });
  const entries = first.filter((e) => e.seq < cut).concat(rest);
  const probe = await store.readOplog(scope, {
    afterSeq: cut,
    limit: 1,
    collections,
    match,
    keepWriter,
  });
  return { entries, lastSeq: cut, hasMore: probe.length > 0 };
}

/** Each document once, in its latest state, ordered by its latest change. */
export function latestChanges(entries: OplogEntry[]): ChangeOut[] {
  const latest = new Map<string, OplogEntry>();
  for (const e of entries) {
    // refreshViews markers are never shown (see `VIEWS_MARKER`).
    if (e.collection === '_sync_views') continue;
    const key = `${e.collection}\u0000${e.id}`;
    latest.delete(key); // re-insert so Map order follows the latest change
    latest.set(key, e);
  }
  return [...latest.values()].map((e) => ({
    collection: e.collection,
    id: e.id,
    op: e.op,
    data: e.op === 'delete' ? null : e.data,
    version: e.version,
  }));
}

/** Resolves a client checkpoint to a seq (0 = from the beginning); a foreign epoch needs a resync. */
export function sinceSeq(store: Store, since: string | null | undefined, field = 'since'): number {
  const cp = decodeCheckpoint(since, field);
  if (!cp) return 0;
  if (cp.epoch !== store.epoch())
    throw resyncRequired('the checkpoint was issued by another database (epoch changed)');
  return cp.seq;
}

/** Throws RESYNC_REQUIRED when history after `seq` is no longer complete. */
export function assertRetained(seq: number, head: ScopeHead): void {
  if (seq < head.horizon)
    throw resyncRequired(
      `the checkpoint is older than the retained history (horizon ${head.horizon}); rebuild with full`,
    );
  if (seq > head.seq)
    throw resyncRequired("the checkpoint is ahead of this scope's history; rebuild with full");
}

export function resyncRequired(message: string): SyncError {
  return new SyncError('RESYNC_REQUIRED', `resync required: ${message}`);
}

export function checkpointOf(store: Store, seq: number): string {
  return encodeCheckpoint({ epoch: store.epoch(), seq });
}
