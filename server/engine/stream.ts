/**
 * The live stream: catch up from `lastEventId ?? since` with the same code as pull, then tail the
 * shared feed, one event per commit. Resuming is just a checkpoint in the input.
 */
import { SyncError } from '../../shared/errors.js';
import { streamInput, type Actor, type StreamEvent } from '../../shared/protocol.js';
import type { OplogEntry, ScopeHead, Store } from '../stores/store.js';
import { checksumsAt } from './checksums.js';
import { viewChecksumsAt } from './view-checksums.js';
import { assertRetained, checkpointOf, latestChanges, readCommits, sinceSeq } from './commits.js';
import type { LiveFeed } from './feed.js';
import type { SkippedRun } from './subscription.js';
import { planKeys } from './dispatch.js';
import { readableCollections, type AuthorizeCollection } from './read-auth.js';
import type { StreamOptions, StreamWatch, SyncLimits } from './types.js';
import { checkCollections, parseInput } from './validate.js';
import {
  oplogCollections,
  oplogMatch,
  ownWriter,
  planChanges,
  planFor,
  planShows,
  wholeCollections,
  type ViewsContext,
} from './views.js';
import type { SyncSchema } from '../../shared/schema.js';

export interface StreamDeps {
  store: Store;
  schema: SyncSchema;
  feed: LiveFeed;
  limits: SyncLimits;
  options: StreamOptions;
  /** Told once, at the moment this subscriber's queue overflows (before the stream yields its `resync_required`). */
  onOverflow: () => void;
  /** The face's hooks (told of the overflow and of the end of catch-up). */
  watch?: StreamWatch;
  /** Per-collection read permission (denied collections named → FORBIDDEN, else left out). */
  authorizeCollection?: AuthorizeCollection;
  /** Send integrity checksums (on the last catch-up event and on heartbeats). @default true */
  integrity?: boolean;
  /** The engine's rules and default views (null or absent: no rules). */
  views?: ViewsContext | null;
  /** Asked before each view-checksum scan page after the first (the rate limit); see `ScanBudget`. */
  scanPage?: () => boolean;
}

/**
 * Yields `changes` events (each with its checkpoint), heartbeats, and `resync_required` then ends.
 * Live `changes` events of subscribers without a collections filter are shared: every such
 * subscriber of the scope receives the same (read-only) object for a commit, so consumers may
 * serialize it once (e.g. cache by identity) and must not mutate it.
 */
export async function* stream(
  deps: StreamDeps,
  actor: Actor,
  input: unknown,
  signal?: AbortSignal,
): AsyncGenerator<StreamEvent> {
  const req = parseInput(streamInput, input, 'stream');
  checkCollections(deps.schema, req.collections);
  const { store } = deps;
  const scope = actor.scopeId;
  // Checked before the first event: a denied, named collection fails the subscription (403).
  // With rules: the view's (or default views') plan; a refused view fails here (400/403).
  const plan = await planFor(
    deps.views ?? null,
    deps.schema,
    deps.authorizeCollection,
    actor,
    'stream',
    { ...req, defaultViews: deps.watch?.defaultViews },
  );
  const collections = plan
    ? oplogCollections(plan)
    : await readableCollections(
        deps.authorizeCollection,
        deps.schema,
        actor,
        'stream',
        req.collections,
      );
  const filter = collections ? new Set(collections) : null;
  const match = oplogMatch(plan);
  const refreshed =
    'resync required: the views of this user were refreshed (refreshViews); rebuild them with full';
  let pos: number;
  try {
    pos = req.lastEventId
      ? sinceSeq(store, req.lastEventId, 'lastEventId')
      : sinceSeq(store, req.since);
  } catch (error) {
    if (SyncError.is(error) && error.code === 'RESYNC_REQUIRED') {
      yield { type: 'resync_required', message: error.message };
      return;
    }
    throw error;
  }
  /**
   * Integrity checksums exact at `through`: on the last catch-up event and on heartbeats (one read
   * per subscriber per heartbeat), not on each live commit, which would cost a read per commit and
   * subscriber; a live client is checked at least every `heartbeatMs`.
   */
  const names = plan ? wholeCollections(plan) : (collections ?? deps.schema.names);
  const sums = (through: number, head?: ScopeHead) =>
    deps.integrity === false || names.length === 0
      ? Promise.resolve(undefined)
      : checksumsAt(store, scope, names, through, head);
  // Subscribe before catching up, so nothing committed in between is missed (duplicates are skipped by seq).
  const sub = await deps.feed.subscribe(scope, () => {
    deps.onOverflow();
    deps.watch?.onOverflow?.();
  });
  // Commits that cannot show this subscriber anything are passed over by the feed without waking
  // it (1,000 view subscribers, 10 of which a commit concerns, wake 10 streams, not 1,000).
  if (plan) {
    sub.interest = (commit) => planShows(plan, commit.entries);
    const keys = planKeys(plan);
    if (keys) deps.feed.route(sub, keys);
  } else if (filter) {
    sub.interest = (commit) => commit.entries.some((e) => filter.has(e.collection));
  }
  /** Moves the position past a run of passed-over commits that starts right after it. */
  const passOver = (run: SkippedRun | null) => {
    if (run && run.from <= pos + 1 && run.through > pos) pos = run.through;
  };
  try {
    /** Reads whole commits after `pos` until caught up; false when a resync is needed. */
    async function* catchUp(): AsyncGenerator<StreamEvent, boolean> {
      for (;;) {
        const head = await store.head(
          scope,
          deps.integrity !== false && store.checksums && names.length > 0
            ? { checksums: names }
            : undefined,
        );
        try {
          assertRetained(pos, head);
        } catch (error) {
          yield { type: 'resync_required', message: (error as Error).message };
          return false;
        }
        // Nothing readable: no read, the position still advances to the head.
        const nothing = plan ? plan.specs.size === 0 : collections?.length === 0;
        const page = nothing
          ? { entries: [], lastSeq: null, hasMore: false }
          : await readCommits(
              store,
              scope,
              pos,
              deps.limits.pullMaxLimit,
              collections,
              match,
              ownWriter(plan),
            );
        if (pos < head.seq && pos < (await store.head(scope)).horizon) {
          yield {
            type: 'resync_required',
            message: 'resync required: history was pruned during catch-up',
          };
          return false;
        }
        const through = page.hasMore ? page.lastSeq! : Math.max(pos, head.seq, page.lastSeq ?? 0);
        const changes = plan ? planChanges(plan, page.entries) : latestChanges(page.entries);
        if (changes === 'refresh') {
          yield { type: 'resync_required', message: refreshed };
          return false;
        }
        if (changes.length > 0) {
          const event: StreamEvent = {
            type: 'changes',
            checkpoint: checkpointOf(store, through),
            changes,
          };
          // A view's checksum is computed when asked (`verifyView`, one scan): on the last catch-up event only, not on heartbeats.
          const checksums = page.hasMore
            ? undefined
            : plan?.view
              ? deps.integrity === false || req.verifyView !== true
                ? undefined
                : await viewChecksumsAt(store, scope, plan, through, {
                    maxDocs: deps.limits.maxViewChecksumDocs,
                    page: deps.scanPage,
                  })
              : await sums(through, head);
          if (checksums) event.checksums = checksums;
          yield event;
        }
        pos = through;
        if (!page.hasMore) return true;
      }
    }

    if (!(yield* catchUp())) return;
    deps.watch?.onLive?.();
    while (!signal?.aborted) {
      passOver(sub.takeSkipped());
      const item = await sub.next(deps.options.heartbeatMs, signal);
      if (item === 'aborted') return;
      if (item === 'timeout') {
        passOver(sub.takeSkipped());
        const event: StreamEvent = { type: 'heartbeat', checkpoint: checkpointOf(store, pos) };
        const checksums = await sums(pos);
        if (checksums) event.checksums = checksums;
        yield event;
        continue;
      }
      if (item === 'overflow') {
        yield {
          type: 'resync_required',
          message: `resync required: this subscriber fell more than ${deps.options.maxQueue} commits behind`,
        };
        return;
      }
      if (item.seq <= pos) continue;
      passOver(sub.skippedBefore);
      if (item.seq > pos + 1) {
        // A commit we have not seen came before this one (e.g. a missed notification): read it.
        if (!(yield* catchUp())) return;
        if (item.seq <= pos) continue;
      }
      pos = item.seq;
      if (plan) {
        const changes = planChanges(plan, item.entries);
        if (changes === 'refresh') {
          yield { type: 'resync_required', message: refreshed };
          return;
        }
        if (changes.length > 0)
          yield { type: 'changes', checkpoint: checkpointOf(store, pos), changes };
        continue;
      }
      if (!filter) {
        // Every unfiltered subscriber of the scope gets the same event object for this commit.
        const event = (item.event ??= {
          type: 'changes',
          checkpoint: checkpointOf(store, pos),
          changes: latestChanges(item.entries),
        });
        if (event.type === 'changes' && event.changes.length > 0) yield event;
        continue;
      }
      const entries: OplogEntry[] = item.entries.filter((e) => filter.has(e.collection));
      if (entries.length > 0)
        yield {
          type: 'changes',
          checkpoint: checkpointOf(store, pos),
          changes: latestChanges(entries),
        };
    }
  } finally {
    sub.close();
  }
}
