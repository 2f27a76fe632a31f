/** A subscriber's queue: commits its interest test declines are passed over (no queue, no wake) and remembered as runs. */
import { describe, expect, it } from 'vitest';
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
