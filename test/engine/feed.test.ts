/**
 * The shared live feed (`LiveFeed`) on the real memory store: which commits reach a subscriber,
 * grouped by seq and read in pages; lost notifications found by a reset or the safety poll; a head
 * or read that fails; the dispatch index's pass-over; the feed's status; unsubscribe and close.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveFeed } from '../../server/engine/feed.js';
import { planKeys } from '../../server/engine/dispatch.js';
import type { ReadPlan } from '../../server/engine/views.js';
import type { FeedCommit, Subscription } from '../../server/engine/subscription.js';
import { memoryStore } from '../../server/stores/memory.js';
import type { OplogEntry, Store, StoreEvent } from '../../server/stores/store.js';

const options = { heartbeatMs: 1000, maxQueue: 1000, pollMs: 60_000, maxBufferedBytes: 1 << 20 };

/**
 * A memory store whose notifications the test controls (`quiet`: commits tell nobody; `emit`: a
 * notification by hand), with `head` and `readOplog` that can be held (`hold`) or made to fail.
 */
function testStore() {
  const inner = memoryStore();
  const listeners = new Set<(e: StoreEvent) => void>();
  let quiet = false;
  inner.onEvent((e) => {
    if (!quiet) for (const l of listeners) l(e);
  });
  const gates = {
    head: null as Promise<void> | null,
    read: null as Promise<void> | null,
    /** Held after the read: its answer is what the oplog held before. */
    answer: null as Promise<void> | null,
    headAnswer: null as Promise<void> | null,
  };
  const failures = { head: 0, read: 0 };
  const counts = { onEvent: 0, reads: 0, heads: 0 };
  const store: Store = {
    ...inner,
    async head(scope, opts) {
      if (gates.head) await gates.head;
      counts.heads++;
      if (failures.head > 0) {
        failures.head--;
        throw new Error('head down');
      }
      const head = await inner.head(scope, opts);
      if (gates.headAnswer) await gates.headAnswer;
      return head;
    },
    async readOplog(scope, opts) {
      if (gates.read) await gates.read;
      counts.reads++;
      if (failures.read > 0) {
        failures.read--;
        throw new Error('read down');
      }
      const entries = await inner.readOplog(scope, opts);
      if (gates.answer) await gates.answer;
      return entries;
    },
    onEvent(listener) {
      counts.onEvent++;
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  /** Holds `head`, `readOplog` or a read's answer until the returned function is called. */
  const hold = (what: 'head' | 'read' | 'answer' | 'headAnswer') => {
    let release!: () => void;
    gates[what] = new Promise<void>((r) => (release = r));
    return () => {
      gates[what] = null;
      release();
    };
  };
  return {
    store,
    listeners,
    failures,
    counts,
    hold,
    setQuiet: (q: boolean) => (quiet = q),
    emit: (e: StoreEvent) => {
      for (const l of listeners) l(e);
    },
  };
}

/** One commit of `n` entries (ids `${tag}0`…) in `scope`, by `actor`; answers its seq. */
async function commit(store: Store, scope: string, n = 1, tag = 'd', actor = 'zed') {
  return store.transaction(scope, async (tx) => {
    const seq = tx.head.seq + 1;
    const entries: OplogEntry[] = Array.from({ length: n }, (_, idx) => ({
      scope,
      seq,
      idx,
      collection: 'tasks',
      id: `${tag}${idx}`,
      op: 'upsert',
      data: { owner: tag },
      before: null,
      version: `v${seq}.${idx}`,
      actor,
      clientId: null,
      mutationId: null,
      at: new Date(),
    }));
    await tx.appendOplog(entries);
    await tx.setHead(seq);
    return seq;
  });
}

/** The next commit a subscriber gets, or what ended the wait. */
async function next(sub: Subscription, ms = 2000) {
  return sub.next(ms);
}
const seqOf = (item: Awaited<ReturnType<Subscription['next']>>) =>
  typeof item === 'string' ? item : item.seq;

/** Lets the feed's promise chains run (reads of the memory store are microtasks and I/O-free). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

const feeds: LiveFeed[] = [];
function newFeed(store: Store, onError: (e: unknown) => void = () => {}, opts = options) {
  const feed = new LiveFeed(store, opts, onError);
  feeds.push(feed);
  return feed;
}
afterEach(() => {
  for (const f of feeds.splice(0)) f.close();
  vi.useRealTimers();
});

/** The feed's private per-scope state (its dispatch index and positions). */
function scopeState(feed: LiveFeed, scope: string) {
  return (
    feed as unknown as {
      scopes: Map<string, { index: { size: number }; lastSeq: number; wanted: number }>;
    }
  ).scopes.get(scope);
}

describe('LiveFeed delivery', () => {
  it('delivers each commit after the head at subscribe once, whole, in seq order, the same object to every subscriber', async () => {
    const t = testStore();
    await commit(t.store, 's', 2, 'old');
    const feed = newFeed(t.store);
    const a = await feed.subscribe('s');
    const b = await feed.subscribe('s');
    await commit(t.store, 's', 3, 'x');
    await commit(t.store, 's', 1, 'y');
    const a2 = (await next(a)) as FeedCommit;
    expect(a2.seq).toBe(2);
    expect(a2.entries.map((e) => e.id)).toEqual(['x0', 'x1', 'x2']);
    const a3 = (await next(a)) as FeedCommit;
    expect(a3.seq).toBe(3);
    expect(a3.entries.map((e) => e.id)).toEqual(['y0']);
    expect(await next(b)).toBe(a2);
    expect(await next(b)).toBe(a3);
    expect(await next(a, 30)).toBe('timeout');
  });

  it('keeps scopes apart and ignores notifications of scopes nobody follows', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const a = await feed.subscribe('a');
    await commit(t.store, 'b', 1);
    t.emit({ type: 'commit', scope: 'zz', seq: 9 });
    await commit(t.store, 'a', 1, 'mine');
    const got = (await next(a)) as FeedCommit;
    expect(got.entries.map((e) => [e.scope, e.id])).toEqual([['a', 'mine0']]);
    expect(feed.size).toBe(1);
  });

  it('reads a backlog in pages of 2,000 entries without cutting a commit, on one notification', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const sub = await feed.subscribe('s');
    t.setQuiet(true);
    for (const n of [1500, 1500, 1500, 10]) await commit(t.store, 's', n);
    t.setQuiet(false);
    t.emit({ type: 'commit', scope: 's', seq: 4 });
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = (await next(sub)) as FeedCommit;
      expect(c.seq).toBe(i + 1);
      expect(c.entries.map((e) => e.idx)).toEqual([...c.entries.keys()]);
      sizes.push(c.entries.length);
    }
    expect(sizes).toEqual([1500, 1500, 1500, 10]);
    expect(await next(sub, 30)).toBe('timeout');
    // Fewer reads than commits: whole pages, not a read per commit or per notification.
    expect(t.counts.reads).toBeLessThanOrEqual(8);
  });

  it('a notification with an older seq does not move the feed back, and one beyond the oplog reads to its end', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const sub = await feed.subscribe('s');
    await commit(t.store, 's', 1);
    expect(seqOf(await next(sub))).toBe(1);
    t.emit({ type: 'commit', scope: 's', seq: 1 });
    await settle();
    // A repeated notification of a delivered commit: not behind.
    expect(feed.status(Date.now() + 1000)).toMatchObject({ behindCommits: 0, lagMs: 0 });
    t.emit({ type: 'commit', scope: 's', seq: 5 }); // ahead of the oplog: nothing to read yet
    await settle();
    await commit(t.store, 's', 1);
    expect(seqOf(await next(sub))).toBe(2);
    expect(scopeState(feed, 's')!.lastSeq).toBe(2);
  });
  it('a late notification of an older commit during a read does not stop the feed short of a newer one', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const sub = await feed.subscribe('s');
    const release = t.hold('answer');
    await commit(t.store, 's', 1); // the feed reads [1] and waits with it
    await settle();
    t.setQuiet(true);
    await commit(t.store, 's', 1);
    t.setQuiet(false);
    t.emit({ type: 'commit', scope: 's', seq: 2 });
    t.emit({ type: 'commit', scope: 's', seq: 1 }); // e.g. another process's, delayed
    release();
    expect(seqOf(await next(sub))).toBe(1);
    expect(seqOf(await next(sub))).toBe(2);
    expect(await next(sub, 30)).toBe('timeout'); // one read at a time: nothing twice
  });

  it('reads each notified commit once, and no more once caught up, without reading heads', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const sub = await feed.subscribe('s');
    await feed.subscribe('other');
    const reads = t.counts.reads;
    const heads = t.counts.heads;
    for (let i = 1; i <= 3; i++) {
      await commit(t.store, 's', 2);
      expect(seqOf(await next(sub))).toBe(i);
      expect(t.counts.reads - reads).toBe(i);
    }
    expect(t.counts.heads).toBe(heads);
  });

  it('stops reading for a scope whose last subscriber left during a read', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const sub = await feed.subscribe('s');
    const release = t.hold('answer');
    await commit(t.store, 's', 1); // read, answer held
    await commit(t.store, 's', 1); // known, to be read after it
    sub.close();
    const reads = t.counts.reads;
    release();
    await settle();
    expect(t.counts.reads).toBe(reads);
    expect(feed.status().scopes).toBe(0);
  });

  it('delivers a commit made between the head read at subscribe and its answer, and none before that head', async () => {
    const t = testStore();
    await commit(t.store, 's', 1);
    await commit(t.store, 's', 1);
    const feed = newFeed(t.store);
    const release = t.hold('headAnswer');
    const pending = feed.subscribe('s');
    await settle(); // the head (2) is read, its answer held
    t.emit({ type: 'commit', scope: 's', seq: 2 }); // a late notification of a commit before it
    await commit(t.store, 's', 1);
    release();
    const sub = await pending;
    expect(seqOf(await next(sub))).toBe(3);
    expect(await next(sub, 30)).toBe('timeout');
  });
});

describe('LiveFeed lost notifications and failures', () => {
  it('a reset event compares heads and delivers the commits whose notification was lost', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const a = await feed.subscribe('a');
    const b = await feed.subscribe('b');
    t.setQuiet(true);
    await commit(t.store, 'a', 1);
    await commit(t.store, 'b', 1);
    await commit(t.store, 'b', 1);
    t.setQuiet(false);
    expect(await next(a, 30)).toBe('timeout');
    t.emit({ type: 'reset' });
    expect(seqOf(await next(a))).toBe(1);
    expect(seqOf(await next(b))).toBe(1);
    expect(seqOf(await next(b))).toBe(2);
  });

  it('a head read older than a notification the feed had does not stop it short of that commit', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const sub = await feed.subscribe('s');
    const releaseHead = t.hold('headAnswer');
    t.emit({ type: 'reset' }); // reads the head (0), its answer held
    await settle();
    const releaseRead = t.hold('answer');
    await commit(t.store, 's', 1); // read, answer held
    t.setQuiet(true);
    await commit(t.store, 's', 1);
    t.setQuiet(false);
    t.emit({ type: 'commit', scope: 's', seq: 2 });
    releaseHead();
    await settle();
    releaseRead();
    expect(seqOf(await next(sub))).toBe(1);
    expect(seqOf(await next(sub))).toBe(2);
  });

  it('the safety poll (pollMs) finds a commit whose notification was lost; a head error there goes to onError', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const t = testStore();
    const errors: unknown[] = [];
    const feed = newFeed(t.store, (e) => errors.push(e), { ...options, pollMs: 500 });
    const sub = await feed.subscribe('s');
    t.setQuiet(true);
    await commit(t.store, 's', 1);
    await settle();
    expect(scopeState(feed, 's')!.lastSeq).toBe(0);
    t.failures.head = 1;
    vi.advanceTimersByTime(500);
    await settle();
    expect(errors).toEqual([new Error('head down')]);
    expect(scopeState(feed, 's')!.lastSeq).toBe(0);
    vi.advanceTimersByTime(500);
    expect(seqOf(await next(sub))).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('a failed read goes to onError and is retried by the next notification', async () => {
    const t = testStore();
    const errors: unknown[] = [];
    const feed = newFeed(t.store, (e) => errors.push(e));
    const sub = await feed.subscribe('s');
    t.failures.read = 1;
    await commit(t.store, 's', 1);
    await settle();
    expect(errors).toEqual([new Error('read down')]);
    // Still behind, and the lag counts from before the failed read.
    const status = feed.status(Date.now() + 1000);
    expect(status.behindCommits).toBe(1);
    expect(status.lagMs).toBeGreaterThanOrEqual(1000);
    await commit(t.store, 's', 1);
    expect(seqOf(await next(sub))).toBe(1);
    expect(seqOf(await next(sub))).toBe(2);
    expect(feed.status().behindCommits).toBe(0);
  });

  it('a head that cannot be read rejects subscribe, closes its subscriber and drops the scope; the next subscribe starts over', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    t.failures.head = 1;
    await commit(t.store, 's', 1);
    await expect(feed.subscribe('s')).rejects.toThrow('head down');
    expect(feed.size).toBe(0);
    expect(feed.status().scopes).toBe(0);
    const sub = await feed.subscribe('s');
    await commit(t.store, 's', 1);
    expect(seqOf(await next(sub))).toBe(2);
  });

  it('a head read that fails after close does not drop the feed a later subscribe made', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const release = t.hold('head');
    t.failures.head = 1;
    const first = feed.subscribe('s');
    first.catch(() => {});
    feed.close();
    const second = feed.subscribe('s'); // a new feed for the scope, its head read held too
    release();
    await expect(first).rejects.toThrow('head down');
    const sub = await second;
    expect(feed.size).toBe(1);
    await commit(t.store, 's', 1);
    expect(seqOf(await next(sub))).toBe(1);
  });
});

describe('LiveFeed routing (dispatch index)', () => {
  const plan = (userId: string, owner: string) =>
    ({
      specs: new Map([['tasks', [{ owner }]]]),
      view: null,
      watchRefresh: false,
      userId,
    }) as unknown as ReadPlan;

  it('passes a routed subscriber over for commits its keys do not find; unrouted ones get every commit', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const ann = await feed.subscribe('s');
    const bob = await feed.subscribe('s');
    const all = await feed.subscribe('s');
    feed.route(ann, planKeys(plan('ann', 'a'))!);
    feed.route(bob, planKeys(plan('bob', 'b'))!);
    await commit(t.store, 's', 1, 'a'); // owner a
    await commit(t.store, 's', 1, 'c'); // owner c: nobody's
    await commit(t.store, 's', 1, 'b'); // owner b
    await commit(t.store, 's', 1, 'c');
    expect(seqOf(await next(ann))).toBe(1);
    expect(await next(ann, 30)).toBe('timeout');
    expect(ann.takeSkipped()).toEqual({ from: 2, through: 4 });
    expect(seqOf(await next(bob))).toBe(3);
    expect(bob.skippedBefore).toEqual({ from: 1, through: 2 });
    expect(bob.takeSkipped()).toEqual({ from: 4, through: 4 });
    for (const seq of [1, 2, 3, 4]) expect(seqOf(await next(all))).toBe(seq);
    expect(all.takeSkipped()).toBeNull();
  });

  it('routes only live subscribers of the feed, and forgets a subscriber that closes', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const ann = await feed.subscribe('s');
    const other = await feed.subscribe('s');
    ann.close();
    feed.route(ann, planKeys(plan('ann', 'a'))!);
    expect(scopeState(feed, 's')!.index.size).toBe(0);
    feed.route(other, planKeys(plan('bob', 'b'))!);
    expect(scopeState(feed, 's')!.index.size).toBe(1);
    const bob = await feed.subscribe('s');
    feed.route(bob, planKeys(plan('bob', 'b'))!);
    expect(scopeState(feed, 's')!.index.size).toBe(2);
    bob.close();
    expect(scopeState(feed, 's')!.index.size).toBe(1);
    other.close(); // the last one: the scope's feed is dropped
    expect(() => feed.route(other, planKeys(plan('bob', 'b'))!)).not.toThrow();
    expect(feed.status().scopes).toBe(0);
  });
});

describe('LiveFeed status, size, unsubscribe and close', () => {
  it('counts scopes and subscribers; the last subscriber leaving drops its scope', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    expect(feed.status()).toEqual({
      scopes: 0,
      subscribers: 0,
      behindCommits: 0,
      lagMs: 0,
      lastDeliveryAt: null,
    });
    const a1 = await feed.subscribe('a');
    const a2 = await feed.subscribe('a');
    const b1 = await feed.subscribe('b');
    expect(feed.size).toBe(3);
    // Caught up: nothing behind, no lag however late the status is asked.
    expect(feed.status(Date.now() + 1000)).toMatchObject({
      scopes: 2,
      subscribers: 3,
      behindCommits: 0,
      lagMs: 0,
    });
    a1.close();
    a1.close();
    expect(feed.status()).toMatchObject({ scopes: 2, subscribers: 2 });
    a2.close();
    expect(feed.status()).toMatchObject({ scopes: 1, subscribers: 1 });
    expect(scopeState(feed, 'a')).toBeUndefined();
    // A commit to a scope nobody follows any more is not read.
    const reads = t.counts.reads;
    await commit(t.store, 'a', 1);
    await settle();
    expect(t.counts.reads).toBe(reads);
    b1.close();
    expect(feed.size).toBe(0);
  });

  it('shows how many known commits are not delivered yet and since when, oldest scope first, until delivered', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = testStore();
    await commit(t.store, 'a', 1);
    await commit(t.store, 'd', 1);
    const feed = newFeed(t.store);
    const subs = [await feed.subscribe('a'), await feed.subscribe('b'), await feed.subscribe('c')];
    await feed.subscribe('d'); // caught up at its head (1), after the others in the feed's order
    expect(feed.status(10_000)).toMatchObject({ behindCommits: 0, lagMs: 0 });
    const release = t.hold('read');
    vi.setSystemTime(2000);
    await commit(t.store, 'a', 1);
    await commit(t.store, 'a', 1);
    vi.setSystemTime(1000);
    await commit(t.store, 'b', 1);
    vi.setSystemTime(3000);
    await commit(t.store, 'c', 1);
    vi.setSystemTime(4000);
    await commit(t.store, 'b', 1); // already behind: b's time stays 1000
    vi.setSystemTime(5000);
    await commit(t.store, 'c', 1);
    expect(feed.status(10_000)).toEqual({
      scopes: 4,
      subscribers: 4,
      behindCommits: 6,
      lagMs: 9000,
      lastDeliveryAt: null,
    });
    expect(feed.status(500).lagMs).toBe(0);
    vi.setSystemTime(7000);
    release();
    for (const [i, sub] of subs.entries())
      for (const seq of i === 0 ? [2, 3] : [1, 2]) expect(seqOf(await next(sub))).toBe(seq);
    await settle();
    expect(feed.status(10_000)).toEqual({
      scopes: 4,
      subscribers: 4,
      behindCommits: 0,
      lagMs: 0,
      lastDeliveryAt: new Date(7000),
    });
  });

  it('counts nothing behind for a scope whose head is not read yet', async () => {
    const t = testStore();
    const feed = newFeed(t.store);
    const release = t.hold('head');
    const pending = feed.subscribe('s');
    t.emit({ type: 'commit', scope: 's', seq: 3 });
    expect(feed.status(Date.now() + 1000)).toMatchObject({ behindCommits: 0, lagMs: 0 });
    release();
    const sub = await pending;
    await commit(t.store, 's', 1);
    expect(seqOf(await next(sub))).toBe(1);
  });

  it('listens once while open; close closes every subscriber, stops listening and polling, and a later subscribe starts again', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const t = testStore();
    const feed = newFeed(t.store);
    const a = await feed.subscribe('a');
    const b = await feed.subscribe('b');
    expect(t.counts.onEvent).toBe(1);
    expect(t.listeners.size).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    feed.close();
    expect(a.closed && b.closed).toBe(true);
    expect(t.listeners.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(feed.status()).toMatchObject({ scopes: 0, subscribers: 0 });
    feed.close(); // twice is harmless
    const c = await feed.subscribe('a');
    expect(t.counts.onEvent).toBe(2);
    expect(vi.getTimerCount()).toBe(1);
    await commit(t.store, 'a', 1);
    expect(seqOf(await next(c))).toBe(1);
  });
});
