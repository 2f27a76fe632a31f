/** Pull: the changes after a checkpoint, each document once in its latest state, whole commits only. */
import { pullInput, type Actor, type PullResponse } from '../../shared/protocol.js';
import type { Store } from '../stores/store.js';
import { checksumsAt } from './checksums.js';
import { viewChecksumsAt } from './view-checksums.js';
import {
  assertRetained,
  checkpointOf,
  latestChanges,
  readCommits,
  resyncRequired,
  sinceSeq,
} from './commits.js';
import { readableCollections, type AuthorizeCollection } from './read-auth.js';
import type { ReadOptions, SyncLimits } from './types.js';
import { checkCollections, pageLimit, parseInput } from './validate.js';
import type { SyncSchema } from '../../shared/schema.js';
import {
  oplogCollections,
  oplogMatch,
  planChanges,
  ownWriter,
  planFor,
  wholeCollections,
  type ViewsContext,
} from './views.js';

/**
 * One pull page. `integrity`: the last page (`hasMore: false`) carries the checksums exact at its
 * checkpoint (see `checksumsAt`). With rules (`views`), the page shows only what the request's
 * view (or the actor's default views) may see, with `left` removals; a `refreshViews` of this
 * user inside the page's range answers RESYNC_REQUIRED.
 */
export async function pull(
  store: Store,
  schema: SyncSchema,
  limits: SyncLimits,
  actor: Actor,
  input: unknown,
  authorize?: AuthorizeCollection,
  integrity = true,
  views: ViewsContext | null = null,
  defaultViews?: ReadOptions['defaultViews'],
  /** Asked before each view-checksum scan page after the first (the rate limit); see `ScanBudget`. */
  scanPage?: () => boolean,
): Promise<PullResponse> {
  const req = parseInput(pullInput, input, 'pull');
  checkCollections(schema, req.collections);
  const limit = pageLimit(req.limit, limits.pullDefaultLimit, limits.pullMaxLimit, 'pullMaxLimit');
  const scope = actor.scopeId;
  const plan = await planFor(views, schema, authorize, actor, 'pull', { ...req, defaultViews });
  const collections = plan
    ? oplogCollections(plan)
    : await readableCollections(authorize, schema, actor, 'pull', req.collections);
  const since = sinceSeq(store, req.since);
  // Every seq up to head.seq committed before this read, so the oplog read below sees them all.
  const names = plan ? wholeCollections(plan) : (collections ?? schema.names);
  // With integrity checksums, read with the head in one snapshot (exact when the page ends there).
  const head = await store.head(
    scope,
    integrity && store.checksums && names.length > 0 ? { checksums: names } : undefined,
  );
  assertRetained(since, head);
  // Nothing readable: an empty page whose checkpoint still advances to the head.
  const nothing = plan ? plan.specs.size === 0 : collections?.length === 0;
  const page = nothing
    ? { entries: [], lastSeq: null, hasMore: false }
    : await readCommits(store, scope, since, limit, collections, oplogMatch(plan), ownWriter(plan));
  // A prune that ran during the read could have removed entries we expected: never answer partially.
  if (since < head.seq) assertRetained(since, await store.head(scope));
  const through = page.hasMore ? page.lastSeq! : Math.max(head.seq, page.lastSeq ?? 0, since);
  const changes = plan ? planChanges(plan, page.entries) : latestChanges(page.entries);
  if (changes === 'refresh')
    throw resyncRequired(
      'the views of this user were refreshed (refreshViews); rebuild them with full',
    );
  const res: PullResponse = {
    changes,
    checkpoint: checkpointOf(store, through),
    hasMore: page.hasMore,
  };
  if (integrity && !page.hasMore && names.length > 0) {
    const checksums = await checksumsAt(store, scope, names, through, head);
    if (checksums) res.checksums = checksums;
  }
  // A view's checksum, computed when asked (`verifyView`) at its last page (view-checksums.ts).
  if (integrity && !page.hasMore && plan?.view && req.verifyView === true) {
    const checksums = await viewChecksumsAt(store, scope, plan, through, {
      maxDocs: limits.maxViewChecksumDocs,
      page: scanPage,
    });
    if (checksums) res.checksums = checksums;
  }
  return res;
}
