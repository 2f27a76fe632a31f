/** A subscriber's queue: commits its interest test declines are passed over (no queue, no wake) and remembered as runs. */
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Subscription, type FeedCommit } from '../../server/engine/subscription.js';

const commit = (seq: number): FeedCommit => ({ seq, entries: [] });

describe('Subscription with an interest test', () => {
  it('passes declined commits over without waking, and hands their runs to the stream', async () => {
    const wanted = new Set([6, 8]);
    const sub = new Subscription(
      's',
      100,
      () => {},
      undefined,
      (c) => wanted.has(c.seq),
    );
    for (let seq = 1; seq <= 5; seq++) sub.push(commit(seq));
    // Nothing queued, so the wait ends by its timeout, not by a wake.
    expect(await sub.next(20)).toBe('timeout');
    expect(sub.takeSkipped()).toEqual({ from: 1, through: 5 });
    expect(sub.takeSkipped()).toBeNull();
    for (let seq = 6; seq <= 9; seq++) sub.push(commit(seq));
    // 9 was declined after the last queued commit: not handed out while commits are queued.
    expect(sub.takeSkipped()).toBeNull();
    const six = await sub.next(1000);
    expect(six).toMatchObject({ seq: 6 });
    expect(sub.skippedBefore).toBeNull();
    const eight = await sub.next(1000);
    expect(eight).toMatchObject({ seq: 8 });
    expect(sub.skippedBefore).toEqual({ from: 7, through: 7 });
    expect(sub.takeSkipped()).toEqual({ from: 9, through: 9 });
    sub.close();
  });

  it('starts a new run when declined commits are not consecutive, and counts only queued commits toward overflow', async () => {
    let overflowed = 0;
    const sub = new Subscription(
      's',
      2,
      () => {},
      () => overflowed++,
      (c) => c.seq % 10 === 0,
    );
    for (let seq = 1; seq <= 9; seq++) sub.push(commit(seq));
    sub.push(commit(12)); // a gap (10 and 11 never reached this subscriber)
    expect(overflowed).toBe(0);
    expect(sub.takeSkipped()).toEqual({ from: 12, through: 12 });
    sub.push(commit(20));
    sub.push(commit(30));
    expect(overflowed).toBe(0);
    sub.push(commit(40)); // a third queued commit overflows a queue of 2
    expect(overflowed).toBe(1);
    expect(await sub.next(1000)).toBe('overflow');
    sub.close();
  });

  it('queues a commit when the interest test throws (the stream meets the error itself)', async () => {
    const sub = new Subscription(
      's',
      10,
      () => {},
      undefined,
      () => {
        throw new Error('boom');
      },
    );
    sub.push(commit(1));
    expect(await sub.next(1000)).toMatchObject({ seq: 1 });
    sub.close();
  });
});

describe('Subscription waits, timers and close', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Tracks a pending `next()`: `settled` is its result once it resolves. */
  /** Lets a resolved wait's promise chain run (no timer involved). */
  const ticks = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  const track = (p: Promise<unknown>) => {
    const t: { settled: unknown } = { settled: undefined };
    void p.then((v) => (t.settled = v));
    return t;
  };

  it('a push wakes a pending wait, and an overflow wakes it with "overflow" (no onOverflow callback needed)', async () => {
    const sub = new Subscription('s', 1, () => {});
    const first = track(sub.next(60_000));
    await Promise.resolve();
    expect(first.settled).toBeUndefined();
    sub.push(commit(1));
    await ticks();
    expect(first.settled).toMatchObject({ seq: 1 });
    const second = track(sub.next(60_000));
    sub.push(commit(2));
    await ticks();
    expect(second.settled).toMatchObject({ seq: 2 });
    sub.push(commit(3));
    const third = track(sub.next(60_000));
    await ticks();
    expect(third.settled).toMatchObject({ seq: 3 });
    const fourth = track(sub.next(60_000));
    await Promise.resolve();
    sub.push(commit(4));
    sub.push(commit(5)); // a queue of 1 is full: overflow, with no callback given
    await ticks();
    expect(fourth.settled).toBe('overflow');
    sub.close();
  });

  it('tells onOverflow once, ignores pushes after an overflow or a close, and hands out no skipped run then', async () => {
    let overflowed = 0;
    const sub = new Subscription(
      's',
      1,
      () => {},
      () => overflowed++,
      (c) => c.seq % 2 === 0,
    );
    sub.push(commit(2));
    sub.push(commit(3)); // declined after the last queued commit
    sub.push(commit(4)); // overflows the queue of 1
    expect(overflowed).toBe(1);
    sub.push(commit(5));
    sub.push(commit(6));
    sub.push(commit(8));
    expect(overflowed).toBe(1);
    expect(sub.takeSkipped()).toBeNull();
    expect(await sub.next(1000)).toBe('overflow');
    sub.close();

    let told = 0;
    const closed = new Subscription(
      's',
      1,
      () => {},
      () => told++,
      (c) => c.seq % 2 === 0,
    );
    closed.push(commit(1)); // declined: a run 1..1
    closed.close();
    expect(closed.takeSkipped()).toBeNull();
    closed.push(commit(3));
    expect(closed.takeSkipped()).toBeNull();
    closed.push(commit(2));
    closed.push(commit(4));
    expect(told).toBe(0);
    expect(await closed.next(1000)).toBe('aborted');
  });

  it('close ends a pending wait with "aborted", calls onClose once, and leaves no timer or abort listener behind', async () => {
    vi.useFakeTimers();
    const closes: Subscription[] = [];
    const sub = new Subscription('s', 10, (s) => closes.push(s));
    const signal = new AbortController().signal;
    const pending = track(sub.next(60_000, signal));
    await Promise.resolve();
    expect(vi.getTimerCount()).toBe(1);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    sub.close();
    await ticks();
    expect(pending.settled).toBe('aborted');
    expect(vi.getTimerCount()).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    sub.close();
    expect(closes).toEqual([sub]);
    expect(await sub.next(1000)).toBe('aborted');
  });

  it("an abort ends the wait; a signal aborted already answers at once; a stream's earlier signal no longer counts", async () => {
    vi.useFakeTimers();
    const sub = new Subscription('s', 10, () => {});
    const done = new AbortController();
    done.abort();
    expect(await sub.next(60_000, done.signal)).toBe('aborted');

    const first = new AbortController();
    const a = track(sub.next(60_000, first.signal));
    sub.push(commit(1));
    await ticks();
    expect(a.settled).toMatchObject({ seq: 1 });
    // The next wait uses another signal: aborting the first one must not end it.
    const second = new AbortController();
    const b = track(sub.next(60_000, second.signal));
    await Promise.resolve();
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(0);
    first.abort();
    await vi.advanceTimersByTimeAsync(10);
    expect(b.settled).toBeUndefined();
    second.abort();
    await ticks();
    expect(b.settled).toBe('aborted');
    sub.close();
  });

  it("the idle timeout counts from the start of each wait, whatever the previous wait's timeout", async () => {
    vi.useFakeTimers();
    const sub = new Subscription('s', 10, () => {});
    // Same timeout twice: the timer is re-armed at the second wait.
    const a = track(sub.next(100));
    await vi.advanceTimersByTimeAsync(80);
    sub.push(commit(1));
    await ticks();
    expect(a.settled).toMatchObject({ seq: 1 });
    const b = track(sub.next(100));
    await vi.advanceTimersByTimeAsync(70); // t = 150: the first wait's timer would have fired at 100
    expect(b.settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(40); // t = 190: 110 ms into the second wait
    expect(b.settled).toBe('timeout');

    // A longer timeout next: the old timer must not fire into the new wait.
    const c = track(sub.next(100));
    await vi.advanceTimersByTimeAsync(10);
    sub.push(commit(2));
    await ticks();
    expect(c.settled).toMatchObject({ seq: 2 });
    const d = track(sub.next(300));
    await vi.advanceTimersByTimeAsync(200);
    expect(d.settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(110);
    expect(d.settled).toBe('timeout');

    // A shorter timeout next: it ends at its own time, not the previous wait's.
    const e = track(sub.next(5_000));
    await vi.advanceTimersByTimeAsync(10);
    sub.push(commit(3));
    await ticks();
    expect(e.settled).toMatchObject({ seq: 3 });
    const f = track(sub.next(20));
    await vi.advanceTimersByTimeAsync(30);
    expect(f.settled).toBe('timeout');
    sub.close();
  });
});
