/**
 * The live stream (`stream()`) on the real memory store, with a feed whose subscriptions the test
 * feeds by hand: catch-up in pages and its checkpoints, checksums on the last catch-up event and on
 * heartbeats only, the resyncs (foreign or pruned checkpoints, a prune during catch-up, a refreshed
 * view, an overflowed queue), duplicates and gaps of live commits, passed-over runs moving the
 * position, collections filters, view plans (interest, routing, left removals, verifyView) and abort.
 */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { LiveFeed } from '../../server/engine/feed.js';
import { DEFAULT_LIMITS, DEFAULT_STREAM } from '../../server/engine/options.js';
import { compileRules } from '../../server/engine/rules.js';
import { stream, type StreamDeps } from '../../server/engine/stream.js';
import { Subscription, type FeedCommit } from '../../server/engine/subscription.js';
import type { SyncLimits } from '../../server/engine/types.js';
import { defaultViewsResolver, type ViewsContext } from '../../server/engine/views.js';
import { memoryStore } from '../../server/stores/memory.js';
import type { Store } from '../../server/stores/store.js';
import { encodeCheckpoint } from '../../shared/checkpoint.js';
import type { StreamEvent } from '../../shared/protocol.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { Memberships, viewsRules, viewsSchema } from '../views/fixture.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), assignee: z.string().nullable().optional() }),
  notes: z.object({ body: z.string() }),
});

const SCOPE = 's';
const actor = { userId: 'ann', scopeId: SCOPE };

type Changes = Extract<StreamEvent, { type: 'changes' }>;

interface Setup {
  limits?: Partial<SyncLimits>;
  heartbeatMs?: number;
  maxQueue?: number;
  integrity?: boolean;
  authorizeCollection?: StreamDeps['authorizeCollection'];
  /** Rules of test/views/fixture.ts (default view `mine`) instead of none. */
  views?: boolean;
  /** Wraps the memory store (fault injection). */
  wrap?: (inner: Store) => Store;
}

/**
 * A memory store, an engine over it for writes, and `open()` for streams over a feed whose
 * subscriptions (`subs`) the test pushes commits to (`deliver`) or passes commits over on (`skip`).
 */
async function setup(o: Setup = {}) {
  const inner = memoryStore();
  await inner.init();
  const counts = { reads: 0 };
  const base: Store = Object.create(inner, {
    readOplog: {
      value: (...args: Parameters<Store['readOplog']>) => {
        counts.reads++;
        return inner.readOplog(...args);
      },
    },
  });
  const store = o.wrap ? o.wrap(base) : base;
  const members = new Memberships();
  const usedSchema = o.views ? viewsSchema : schema;
  const engine = o.views
    ? createSyncEngine({
        store: inner,
        schema: viewsSchema,
        rules: viewsRules(members),
        defaultViews: ['mine'],
        retention: { pruneIntervalMs: 0 },
      })
    : createSyncEngine({ store: inner, schema, retention: { pruneIntervalMs: 0 } });
  const compiled = o.views ? compileRules(viewsRules(members), viewsSchema) : null;
  const views: ViewsContext | null = compiled
    ? { compiled, defaults: defaultViewsResolver(compiled, ['mine'] as never) }
    : null;
  const subs: Subscription[] = [];
  const routes: unknown[] = [];
  const overflows = { deps: 0, watch: 0, live: 0 };
  const feed = {
    subscribe: async (scope: string, onOverflow?: () => void) => {
      const sub = new Subscription(scope, o.maxQueue ?? 1000, () => {}, onOverflow);
      subs.push(sub);
      return sub;
    },
    route: (_sub: Subscription, keys: unknown) => routes.push(keys),
  } as unknown as LiveFeed;
  const deps: StreamDeps = {
    store,
    schema: usedSchema,
    feed,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    options: {
      ...DEFAULT_STREAM,
      heartbeatMs: o.heartbeatMs ?? 60_000,
      maxQueue: o.maxQueue ?? 1000,
    },
    onOverflow: () => overflows.deps++,
    watch: {
      onOverflow: () => overflows.watch++,
      onLive: () => overflows.live++,
    },
    authorizeCollection: o.authorizeCollection,
    integrity: o.integrity,
    views,
  };
  const open = (input: object, signal?: AbortSignal, who = actor) => {
    const it = stream(deps, who, input, signal)[Symbol.asyncIterator]();
    return {
      async next(): Promise<StreamEvent> {
        const r = await it.next();
        if (r.done) throw new Error('stream ended');
        return r.value;
      },
      async ended() {
        return (await it.next()).done === true;
      },
      close: () => it.return(undefined),
    };
  };
  const write = async (id: string, collection = 'tasks', data?: Record<string, unknown>) => {
    await engine.write(SCOPE, [
      {
        collection,
        id,
        op: 'upsert',
        data: data ?? (collection === 'tasks' ? { title: id } : { body: id }),
      } as never,
    ]);
    return (await inner.head(SCOPE)).seq;
  };
  /** The commit `seq` as the feed would deliver it. */
  const commit = async (seq: number): Promise<FeedCommit> => ({
    seq,
    entries: await inner.readOplog(SCOPE, { afterSeq: seq - 1, uptoSeq: seq }),
  });
  const deliver = async (sub: Subscription, seq: number) => {
    const c = await commit(seq);
    sub.push(c);
    return c;
  };
  const cp = (seq: number) => encodeCheckpoint({ epoch: inner.epoch(), seq });
  const pullSums = async (input: object = {}) =>
    (await engine.pull(actor, { ...input, since: null, limit: 1000 })).checksums;
  return {
    inner,
    engine,
    members,
    counts,
    subs,
    routes,
    overflows,
    open,
    write,
    commit,
    deliver,
    cp,
    pullSums,
  };
}

const ids = (e: StreamEvent) => (e.type === 'changes' ? e.changes.map((c) => c.id) : []);

describe('stream: where it starts', () => {
  it('a checkpoint of another database, in lastEventId or since, ends the stream with resync_required before subscribing', async () => {
    const t = await setup();
    await t.write('a');
    const foreign = encodeCheckpoint({ epoch: 'elsewhere', seq: 1 });
    for (const input of [{ since: foreign }, { lastEventId: foreign, since: t.cp(1) }]) {
      const events = t.open(input);
      expect(await events.next()).toEqual({
        type: 'resync_required',
        message: expect.stringContaining('another database'),
      });
      expect(await events.ended()).toBe(true);
    }
    expect(t.subs).toHaveLength(0);
    // lastEventId wins over since: a foreign since is not read.
    const events = t.open({ lastEventId: t.cp(0), since: foreign });
    expect(await events.next()).toMatchObject({ type: 'changes', checkpoint: t.cp(1) });
    await events.close();
  });

  it('a checkpoint that is not one throws BAD_REQUEST (not a resync)', async () => {
    const t = await setup();
    await expect(t.open({ since: 'garbage' }).next()).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(t.open({ lastEventId: 'garbage' }).next()).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('a checkpoint below the pruned horizon or ahead of the history needs a resync; one at the head does not', async () => {
    const t = await setup();
    for (const id of ['a', 'b', 'c']) await t.write(id);
    await t.engine.prune({ before: new Date(Date.now() + 60_000) });
    const head = await t.inner.head(SCOPE);
    expect(head.horizon).toBeGreaterThan(0);
    const old = t.open({ since: t.cp(head.horizon - 1) });
    expect(await old.next()).toEqual({
      type: 'resync_required',
      message: expect.stringContaining('horizon'),
    });
    expect(await old.ended()).toBe(true);
    expect(t.subs[0]!.closed).toBe(true);
    const ahead = t.open({ since: t.cp(head.seq + 1) });
    expect(await ahead.next()).toMatchObject({
      type: 'resync_required',
      message: expect.stringContaining('ahead'),
    });
    expect(await ahead.ended()).toBe(true);
    // At the head (and at the horizon): caught up, nothing to send, live.
    const ac = new AbortController();
    const atHead = t.open({ since: t.cp(head.horizon) }, ac.signal);
    const next = atHead.next();
    await vi.waitFor(() => expect(t.overflows.live).toBe(1));
    ac.abort();
    await expect(next).rejects.toThrow('stream ended');
  });

  it('a prune between the catch-up head and its read ends the stream with resync_required', async () => {
    let pruneNext: (() => Promise<unknown>) | null = null;
    const t = await setup({
      wrap: (base) =>
        Object.create(base, {
          readOplog: {
            value: async (...args: Parameters<Store['readOplog']>) => {
              const prune = pruneNext;
              pruneNext = null;
              if (prune) await prune();
              return base.readOplog(...args);
            },
          },
        }) as Store,
    });
    await t.write('a');
    await t.write('b');
    pruneNext = () => t.engine.prune({ before: new Date(Date.now() + 60_000) });
    const events = t.open({ since: t.cp(1) });
    expect(await events.next()).toEqual({
      type: 'resync_required',
      message: 'resync required: history was pruned during catch-up',
    });
    expect(await events.ended()).toBe(true);
    // Without the prune the same start is read normally.
    const ac = new AbortController();
    const again = t.open({ since: t.cp((await t.inner.head(SCOPE)).seq) }, ac.signal);
    const p = again.next();
    await vi.waitFor(() => expect(t.overflows.live).toBe(1));
    ac.abort();
    await expect(p).rejects.toThrow('stream ended');
  });
});

describe('stream: catch-up', () => {
  it('reads in pages of pullMaxLimit, each event at its page end, checksums on the last one only', async () => {
    const t = await setup({ limits: { pullMaxLimit: 2, pullDefaultLimit: 2 } });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await t.write(id);
    const events = t.open({});
    const got: Changes[] = [];
    while (got.length === 0 || got.at(-1)!.checkpoint !== t.cp(5))
      got.push((await events.next()) as Changes);
    expect(got.map(ids)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(got.map((e) => e.checkpoint)).toEqual([t.cp(2), t.cp(4), t.cp(5)]);
    expect(got.map((e) => e.checksums)).toEqual([undefined, undefined, await t.pullSums()]);
    expect(Object.keys(got[2]!.checksums!).sort()).toEqual(['notes', 'tasks']);
    await events.close();
    expect(t.subs[0]!.closed).toBe(true);
  });

  it('a collections filter reads its collections, checkpoints at the head, checksums of its collections only', async () => {
    const t = await setup();
    await t.write('n1', 'notes');
    await t.write('t1');
    await t.write('t2');
    const events = t.open({ collections: ['notes'] });
    const first = await events.next();
    expect(first).toEqual({
      type: 'changes',
      checkpoint: t.cp(3),
      changes: [expect.objectContaining({ collection: 'notes', id: 'n1' })],
      checksums: await t.pullSums({ collections: ['notes'] }),
    });
    expect(Object.keys((first as Changes).checksums!)).toEqual(['notes']);
    // The subscription only wants commits of notes.
    const sub = t.subs[0]!;
    expect(sub.interest!(await t.commit(2))).toBe(false);
    expect(sub.interest!(await t.commit(1))).toBe(true);
    await events.close();
  });

  it('integrity off: no checksums on catch-up or heartbeats', async () => {
    const t = await setup({ integrity: false, heartbeatMs: 20 });
    await t.write('a');
    const events = t.open({});
    const first = await events.next();
    expect(first).toMatchObject({ type: 'changes', checkpoint: t.cp(1) });
    expect('checksums' in first).toBe(false);
    const beat = await events.next();
    expect(beat).toEqual({ type: 'heartbeat', checkpoint: t.cp(1) });
    expect('checksums' in beat).toBe(false);
    await events.close();
  });

  it('nothing readable (every collection denied): no oplog read, no checksums, heartbeats at the head', async () => {
    const t = await setup({ heartbeatMs: 20, authorizeCollection: () => false });
    await t.write('a');
    await t.write('n', 'notes');
    const reads = t.counts.reads;
    const events = t.open({});
    expect(await events.next()).toEqual({ type: 'heartbeat', checkpoint: t.cp(2) });
    expect(t.counts.reads).toBe(reads);
    await events.close();
  });

  it('a partly denied schema streams the allowed collections only', async () => {
    const t = await setup({ authorizeCollection: ({ collection }) => collection === 'notes' });
    await t.write('a');
    await t.write('n', 'notes');
    const events = t.open({});
    const first = (await events.next()) as Changes;
    expect(ids(first)).toEqual(['n']);
    expect(Object.keys(first.checksums!)).toEqual(['notes']);
    await events.close();
  });
});

describe('stream: live', () => {
  it('delivers each commit once: duplicates skipped, a gap read from the store (with checksums), then the next commit alone', async () => {
    const t = await setup();
    await t.write('a');
    const events = t.open({});
    expect(await events.next()).toMatchObject({ type: 'changes', checkpoint: t.cp(1) });
    const sub = t.subs[0]!;
    await t.write('b');
    await t.write('c');
    await t.deliver(sub, 1); // already read by the catch-up
    await t.deliver(sub, 3); // 2 was never delivered
    const gap = (await events.next()) as Changes;
    expect(ids(gap)).toEqual(['b', 'c']);
    expect(gap.checkpoint).toBe(t.cp(3));
    expect(gap.checksums).toEqual(await t.pullSums());
    await t.deliver(sub, 2); // late, already read
    await t.write('d');
    const four = await t.deliver(sub, 4);
    const live = await events.next();
    expect(live).toEqual({
      type: 'changes',
      checkpoint: t.cp(4),
      changes: [expect.objectContaining({ id: 'd' })],
    });
    // Unfiltered: the commit's shared event object.
    expect(live).toBe(four.event);
    await events.close();
  });

  it('the next commit in order is not read again (no gap read)', async () => {
    const t = await setup();
    const events = t.open({});
    const first = events.next();
    await vi.waitFor(() => expect(t.overflows.live).toBe(1));
    const reads = t.counts.reads;
    await t.write('a');
    await t.deliver(t.subs[0]!, 1);
    expect(await first).toEqual({
      type: 'changes',
      checkpoint: t.cp(1),
      changes: [expect.objectContaining({ id: 'a' })],
    });
    expect(t.counts.reads).toBe(reads);
    await events.close();
  });

  it('an unfiltered commit with nothing to show sends nothing; the next heartbeat is past it', async () => {
    const t = await setup({ heartbeatMs: 20 });
    const events = t.open({});
    const first = await events.next();
    expect(first).toMatchObject({ type: 'heartbeat', checkpoint: t.cp(0) });
    await t.write('a'); // makes seq 1 real, so the heartbeat's checksums can be read
    t.subs[0]!.push({ seq: 1, entries: [] });
    const seen: StreamEvent[] = [];
    while (
      seen.length < 20 &&
      (seen.length === 0 || (seen.at(-1) as { checkpoint?: string }).checkpoint !== t.cp(1))
    )
      seen.push(await events.next());
    expect(seen.map((e) => e.type)).toEqual(seen.map(() => 'heartbeat'));
    expect(seen.at(-1)).toMatchObject({ type: 'heartbeat', checkpoint: t.cp(1) });
    await events.close();
  });

  it('a filtered stream sends only its collections of a live commit, nothing for a commit without them', async () => {
    const t = await setup({ heartbeatMs: 20 });
    const events = t.open({ collections: ['notes'] });
    const beat = await events.next();
    expect(beat).toEqual({
      type: 'heartbeat',
      checkpoint: t.cp(0),
      ...(await t.pullSums({ collections: ['notes'] }).then((c) => (c ? { checksums: c } : {}))),
    });
    const sub = t.subs[0]!;
    await t.engine.write(SCOPE, [
      { collection: 'tasks', id: 't1', op: 'upsert', data: { title: 't1' } },
      { collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'n1' } },
    ]);
    const both = await t.deliver(sub, 1);
    const own = (await events.next()) as Changes;
    expect(own).toEqual({
      type: 'changes',
      checkpoint: t.cp(1),
      changes: [expect.objectContaining({ collection: 'notes', id: 'n1' })],
    });
    expect(both.event).toBeUndefined();
    await t.write('t2');
    sub.interest = null; // queued although it shows nothing
    sub.push(await t.commit(2));
    const next = await events.next();
    expect(next).toMatchObject({ type: 'heartbeat', checkpoint: t.cp(2) });
    await events.close();
  });

  it('heartbeats carry the position and its checksums; passed-over runs right after it move it, others not', async () => {
    const t = await setup({ heartbeatMs: 20 });
    await t.write('n0', 'notes');
    const events = t.open({ collections: ['notes'] });
    expect(await events.next()).toMatchObject({ type: 'changes', checkpoint: t.cp(1) });
    const sub = t.subs[0]!;
    const beat = await events.next();
    expect(beat).toEqual({
      type: 'heartbeat',
      checkpoint: t.cp(1),
      checksums: await t.pullSums({ collections: ['notes'] }),
    });
    await t.write('t2');
    await t.write('t3');
    sub.skip(2);
    sub.skip(3);
    expect(await events.next()).toMatchObject({ type: 'heartbeat', checkpoint: t.cp(3) });
    // A run not right after the position (4 missing) does not move it; nor one behind it.
    await t.write('t4');
    await t.write('t5');
    sub.skip(5);
    expect(await events.next()).toMatchObject({ type: 'heartbeat', checkpoint: t.cp(3) });
    sub.skip(2);
    expect(await events.next()).toMatchObject({ type: 'heartbeat', checkpoint: t.cp(3) });
    // A run that ends at the position moves nothing either (its end is not past it).
    sub.skip(3);
    expect(await events.next()).toMatchObject({ type: 'heartbeat', checkpoint: t.cp(3) });
    // 4 and 5 passed over, then a commit of notes: delivered alone, no gap read.
    sub.skip(4);
    sub.skip(5);
    await t.write('n6', 'notes');
    const reads = t.counts.reads;
    await t.deliver(sub, 6);
    let live = await events.next();
    while (live.type === 'heartbeat') live = await events.next();
    expect(live).toEqual({
      type: 'changes',
      checkpoint: t.cp(6),
      changes: [expect.objectContaining({ id: 'n6' })],
    });
    expect(t.counts.reads).toBe(reads);
    await events.close();
  });

  it('a run passed over just before a queued commit counts as seen (skippedBefore): no gap read', async () => {
    const t = await setup();
    await t.write('n1', 'notes');
    const events = t.open({ collections: ['notes'] });
    expect(await events.next()).toMatchObject({ checkpoint: t.cp(1) });
    const sub = t.subs[0]!;
    await t.write('t2');
    await t.write('t3');
    await t.write('n4', 'notes');
    sub.skip(2);
    sub.skip(3);
    await t.deliver(sub, 4);
    const reads = t.counts.reads;
    // Exactly the live event: a gap read would carry checksums.
    expect(await events.next()).toEqual({
      type: 'changes',
      checkpoint: t.cp(4),
      changes: [expect.objectContaining({ id: 'n4' })],
    });
    expect(t.counts.reads).toBe(reads);
    await events.close();
  });

  it('a queue past maxQueue ends the stream with resync_required, told once to both hooks', async () => {
    const t = await setup({ maxQueue: 2 });
    const events = t.open({});
    const first = events.next();
    await vi.waitFor(() => expect(t.overflows.live).toBe(1));
    for (const id of ['a', 'b', 'c', 'd']) await t.write(id);
    const sub = t.subs[0]!;
    const pushed = await Promise.all([1, 2, 3, 4].map((seq) => t.commit(seq)));
    for (const c of pushed) sub.push(c);
    expect(await first).toEqual({
      type: 'resync_required',
      message: 'resync required: this subscriber fell more than 2 commits behind',
    });
    expect(await events.ended()).toBe(true);
    expect(t.overflows).toMatchObject({ deps: 1, watch: 1 });
    expect(sub.closed).toBe(true);
  });

  it('abort ends the stream and closes its subscription', async () => {
    const t = await setup();
    await t.write('a');
    const ac = new AbortController();
    const events = t.open({}, ac.signal);
    await events.next();
    const pending = events.next();
    await vi.waitFor(() => expect(t.overflows.live).toBe(1));
    ac.abort();
    await expect(pending).rejects.toThrow('stream ended');
    expect(t.subs[0]!.closed).toBe(true);
    // Aborted already: ends after the catch-up without waiting.
    const again = t.open({}, ac.signal);
    expect(await again.next()).toMatchObject({ type: 'changes' });
    expect(await again.ended()).toBe(true);
  });
});

describe('stream: view plans', () => {
  const task = (assignee: string) => ({ title: 'x', assignee });

  it("registers the plan's keys with the feed and an interest test that passes other users' tasks over", async () => {
    const t = await setup({ views: true });
    await t.write('a1', 'tasks', task('ann'));
    await t.write('b1', 'tasks', task('bob'));
    const events = t.open({ view: { rule: 'mine' } });
    const first = (await events.next()) as Changes;
    expect(ids(first)).toEqual(['a1']);
    expect(first.checkpoint).toBe(t.cp(2));
    expect('checksums' in first).toBe(false);
    expect(t.routes).toHaveLength(1);
    const sub = t.subs[0]!;
    expect(sub.interest!(await t.commit(1))).toBe(true);
    expect(sub.interest!(await t.commit(2))).toBe(false);
    await events.close();
  });

  it('live: a task reassigned away arrives as a left removal; commits showing nothing send nothing', async () => {
    const t = await setup({ views: true, heartbeatMs: 20 });
    await t.write('a1', 'tasks', task('ann'));
    const events = t.open({ view: { rule: 'mine' } });
    expect(ids(await events.next())).toEqual(['a1']);
    const sub = t.subs[0]!;
    await t.write('b1', 'tasks', task('bob'));
    sub.interest = null; // queued although it shows ann nothing
    sub.push(await t.commit(2));
    await t.write('a1', 'tasks', task('bob'));
    await t.deliver(sub, 3);
    let ev = await events.next();
    while (ev.type === 'heartbeat') ev = await events.next();
    expect(ev).toEqual({
      type: 'changes',
      checkpoint: t.cp(3),
      changes: [expect.objectContaining({ id: 'a1', op: 'delete' })],
    });
    await events.close();
  });

  it('catch-up: the removal of a task that left the view since the checkpoint', async () => {
    const t = await setup({ views: true });
    await t.write('a1', 'tasks', task('ann'));
    await t.write('a1', 'tasks', task('bob'));
    const events = t.open({ view: { rule: 'mine' }, since: t.cp(1) });
    expect(await events.next()).toMatchObject({
      type: 'changes',
      checkpoint: t.cp(2),
      changes: [{ id: 'a1', op: 'delete' }],
    });
    await events.close();
  });

  it('a refresh marker in the catch-up or live ends the stream with resync_required', async () => {
    const t = await setup({ views: true });
    await t.write('a1', 'tasks', task('ann'));
    await t.engine.refreshViews({ scopeId: SCOPE, userId: 'ann' });
    const caught = t.open({ view: { rule: 'mine' }, since: t.cp(1) });
    expect(await caught.next()).toEqual({
      type: 'resync_required',
      message: expect.stringContaining('refreshViews'),
    });
    expect(await caught.ended()).toBe(true);
    const head = (await t.inner.head(SCOPE)).seq;
    const live = t.open({ view: { rule: 'mine' }, since: t.cp(head) });
    const first = live.next();
    await vi.waitFor(() => expect(t.overflows.live).toBe(1));
    await t.engine.refreshViews({ scopeId: SCOPE, userId: 'ann' });
    await t.deliver(t.subs[1]!, head + 1);
    expect(await first).toEqual({
      type: 'resync_required',
      message: expect.stringContaining('refreshViews'),
    });
    expect(await live.ended()).toBe(true);
  });

  it('verifyView: the view checksum on the last catch-up event only, and only when asked with integrity on', async () => {
    const t = await setup({ views: true, limits: { pullMaxLimit: 1, pullDefaultLimit: 1 } });
    await t.write('a1', 'tasks', task('ann'));
    await t.write('a2', 'tasks', task('ann'));
    const read = async (input: object) => {
      const events = t.open(input);
      const got: Changes[] = [];
      while (got.length === 0 || got.at(-1)!.checkpoint !== t.cp(2))
        got.push((await events.next()) as Changes);
      await events.close();
      return got;
    };
    const asked = await read({ view: { rule: 'mine' }, verifyView: true });
    expect(asked.map(ids)).toEqual([['a1'], ['a2']]);
    expect(asked[0]!.checksums).toBeUndefined();
    expect(asked[1]!.checksums).toEqual({ tasks: expect.any(String) });
    const pulled = await t.engine.pull(actor, {
      view: { rule: 'mine' },
      verifyView: true,
      limit: 10,
    });
    expect(asked[1]!.checksums).toEqual(pulled.checksums);
    const notAsked = await read({ view: { rule: 'mine' } });
    expect(notAsked.map((e) => e.checksums)).toEqual([undefined, undefined]);
  });

  it('verifyView with integrity off: no checksum', async () => {
    const t = await setup({ views: true, integrity: false });
    await t.write('a1', 'tasks', task('ann'));
    const events = t.open({ view: { rule: 'mine' }, verifyView: true });
    const first = await events.next();
    expect(ids(first)).toEqual(['a1']);
    expect('checksums' in first).toBe(false);
    await events.close();
  });
});
