/**
 * The network half of subscriptions: pull a view from its own checkpoint, rebuild it from
 * `full({ view })` (paged, resumable with its cursor), and sweep what a view no longer holds.
 */
import type { LocalDoc, LocalWrite, ViewState } from './local-store.js';
import type { Replica } from './replica.js';
import { errorCode, isResyncRequired } from './retry.js';
import { exportPages, newResyncState, type TransferContext } from './transfer.js';
import { withoutView } from './view-tags.js';
import { checkView } from './view-integrity.js';

/** The wire `view` field of a subscription. */
export const viewInput = (view: Pick<ViewState, 'rule' | 'params'>) =>
  view.params === null ? { rule: view.rule } : { rule: view.rule, params: view.params };

/** True when the server refused the view itself (undeclared rule, bad params, `allow` false): retrying cannot help. */
export function isViewRefusal(error: unknown): boolean {
  const code = errorCode(error);
  const status = (error as { data?: { httpStatus?: unknown } } | null)?.data?.httpStatus;
  return (
    code === 'BAD_REQUEST' ||
    code === 'FORBIDDEN' ||
    code === 'NOT_FOUND' ||
    status === 400 ||
    status === 403
  );
}

/** The stored state of view `key` (`null`: not subscribed). */
export async function viewState(replica: Replica, key: string): Promise<ViewState | null> {
  return ((await replica.store.getMeta('views')) ?? {})[key] ?? null;
}

/** Changes the stored state of view `key` (inside the replica's exclusive section); nothing when it is gone. */
export function updateView(
  replica: Replica,
  key: string,
  change: (view: ViewState) => ViewState | null,
  extra: LocalWrite[] = [],
): Promise<void> {
  return replica.exclusive(async () => {
    const views = (await replica.store.getMeta('views')) ?? {};
    const view = views[key];
    if (!view) return;
    const next = change(view);
    const rest = { ...views };
    if (next) rest[key] = next;
    else delete rest[key];
    await replica.store.write([{ type: 'setMeta', key: 'views', value: rest }, ...extra]);
  });
}

/**
 * Pulls view `key` from its checkpoint to the end (rebuilding it first when it has no checkpoint
 * or a rebuild did not finish, and when the server answers RESYNC_REQUIRED for it). Returns the
 * number of changes (and rebuilt documents) applied.
 */
export async function pullView(
  ctx: TransferContext,
  key: string,
  allowRebuild = true,
): Promise<number> {
  let pulled = 0;
  for (;;) {
    const view = await viewState(ctx.replica, key);
    if (!view || view.leaving) return pulled;
    if (allowRebuild && (view.checkpoint === null || view.rebuild))
      return pulled + (await rebuildView(ctx, key));
    let page;
    const settles = ctx.replica.integrity?.settles ?? 0;
    // The view's checksum is asked for now and then (`viewCheckIntervalMs`): it costs a scan on both sides.
    const verify = allowRebuild && (ctx.replica.integrity?.viewCheckDue(key) ?? false);
    try {
      page = await ctx.call(() =>
        ctx.api.pull.query(
          ctx.versioned({
            view: viewInput(view),
            since: view.checkpoint,
            limit: ctx.options.pullLimit,
            ...(verify ? { verifyView: true } : {}),
          }),
        ),
      );
    } catch (error) {
      if (!allowRebuild || !isResyncRequired(error)) throw error;
      return pulled + (await rebuildView(ctx, key));
    }
    await ctx.replica.applyServerChanges(
      page.changes,
      page.checkpoint,
      [],
      null,
      {},
      { key, pass: '' },
    );
    pulled += page.changes.length;
    if (page.changes.length > 0)
      ctx.events.emit('progress', { phase: 'pull', done: pulled, view: key });
    // The view's checksum at its last page: a mismatch rebuilds this view (not after a rebuild's own pull).
    if (!page.hasMore)
      return (
        pulled +
        (allowRebuild ? await checkView(ctx, key, page.checkpoint, page.checksums, settles) : 0)
      );
  }
}

/**
 * Rebuilds view `key` from `full({ view })`, page by page, each page stored with the rebuild's
 * cursor in the same write (a rebuild cut short resumes from its last page). Then sweeps the
 * documents this view held and the export did not (see `sweepView`), stores the export's
 * checkpoint as the view's, and pulls from it.
 */
export async function rebuildView(ctx: TransferContext, key: string): Promise<number> {
  const first = await viewState(ctx.replica, key);
  if (!first || first.leaving) return 0;
  const state = await exportPages(
    ctx,
    first.rebuild ?? newResyncState('v'),
    { view: viewInput(first) },
    async (page, next) => {
      const changes = page.docs.map((d) => ({
        collection: d.collection,
        id: d.id,
        op: d.deleted ? ('delete' as const) : ('upsert' as const),
        data: d.deleted ? null : d.data,
        version: d.version,
      }));
      await ctx.replica.applyServerChanges(
        changes,
        null,
        [],
        null,
        {},
        { key, pass: next.mark, rebuild: next },
      );
      if ((await viewState(ctx.replica, key)) === null) return false; // unsubscribed meanwhile
      ctx.events.emit('progress', { phase: 'full', done: next.done, view: key });
      return true;
    },
  );
  if (!state) return 0;
  await sweepView(ctx.replica, key, state.mark);
  await updateView(ctx.replica, key, (view) => ({
    ...view,
    checkpoint: state.checkpoint,
    rebuild: null,
    ready: true,
  }));
  return state.done + (await pullView(ctx, key, false));
}

/**
 * Takes view `key` off the documents of its collection, page by page: every one (unsubscribe:
 * `pass` null) or those the rebuild pass `pass` did not confirm. A document no other view holds
 * leaves the device — never while it has pending writes: it stays, marked as held by no view
 * (`views: {}`), and leaves once they are pushed. Removals are local: nothing is pushed.
 */
export async function sweepView(
  replica: Replica,
  key: string,
  pass: string | null,
): Promise<number> {
  const view = await viewState(replica, key);
  const collection = view?.collection;
  if (!collection) return 0; // it never delivered a document: none carries it
  const limit = 500;
  let after: string | undefined;
  let swept = 0;
  for (;;) {
    const done = await replica.exclusive(async () => {
      const docs = await replica.store.listDocs(collection, { after, limit });
      const writes: LocalWrite[] = [];
      const gone: LocalDoc[] = [];
      for (const doc of docs) {
        if (pass !== null && doc.views?.[key] === pass) continue;
        const rest = withoutView(doc.views, key);
        if (rest === null) continue;
        swept++;
        if (Object.keys(rest).length > 0)
          writes.push({ type: 'putDoc', doc: { ...doc, views: rest } });
        else if (
          doc.pending &&
          (await replica.store.listOutbox({ collection, id: doc.id, limit: 1 })).length > 0
        )
          writes.push({ type: 'putDoc', doc: { ...doc, views: {} } });
        else {
          writes.push({ type: 'deleteDoc', collection, id: doc.id });
          gone.push(doc);
        }
      }
      if (writes.length > 0) await replica.writeRemovals(writes, gone);
      after = docs.at(-1)?.id;
      return docs.length < limit;
    });
    if (done) return swept;
  }
}
