/** The per-actor rate limit: token bucket arithmetic, and the engine refusing before it reads or writes anything. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SyncError } from '../../shared/errors.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createRateLimiter, createTokenBuckets } from '../../server/engine/rate-limit.js';
import type { EngineEvent } from '../../server/engine/types.js';
import { memoryStore } from '../../server/stores/memory.js';
import type { Store } from '../../server/stores/store.js';
import { storeCases } from '../rest/harness.js';

const schema = defineSyncSchema({ tasks: z.object({ title: z.string() }) });
const alice = { userId: 'alice', scopeId: 'shop' };
const bob = { userId: 'bob', scopeId: 'shop' };

function upsert(mutationId: number, id: string) {
  return {
    clientId: 'd1',
    changes: [{ mutationId, collection: 'tasks', id, op: 'upsert', data: { title: id } }],
  };
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<SyncError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    if (SyncError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('createRateLimiter', () => {
  it('allows a burst of `requests`, then one more per windowMs/requests, per key', () => {
    let t = 1_000_000;
    const limiter = createRateLimiter({ requests: 3, windowMs: 3000 }, () => t);
    expect([1, 2, 3].map(() => limiter.take(alice, 'push'))).toEqual([0, 0, 0]);
    expect(limiter.take(alice, 'push')).toBe(1000);
    expect(limiter.take(bob, 'push')).toBe(0); // another user has a bucket of their own
    t += 400;
    expect(limiter.take(alice, 'pull')).toBe(600);
    t += 600;
    expect(limiter.take(alice, 'pull')).toBe(0);
    expect(limiter.take(alice, 'pull')).toBe(1000);
    t += 60_000; // refills to the burst size, never beyond
    expect([1, 2, 3, 4].map(() => limiter.take(alice, 'full'))).toEqual([0, 0, 0, 1000]);
  });

  it('groups requests by a custom key', () => {
    const limiter = createRateLimiter(
      { requests: 1, windowMs: 1000, key: (actor) => actor.scopeId },
      () => 0,
    );
    expect(limiter.take(alice, 'push')).toBe(0);
    expect(limiter.take(bob, 'push')).toBe(1000); // same scope, same bucket
  });
});

describe('createTokenBuckets: forgetting idle buckets', () => {
  it('once 10,000 buckets are held, a new key sweeps: only full (idle) buckets are forgotten, a drained one keeps its debt', () => {
    let t = 1_000_000; // not 0: elapsed time must be `t - at`, never `t + at`
    const buckets = createTokenBuckets({ requests: 2, windowMs: 1000 }, () => t);
    // `hot` drains its bucket; 10,000 other keys each take one token of two. The 10,000th key
    // sweeps: no bucket is full, nothing is forgotten.
    expect([buckets.take('hot'), buckets.take('hot'), buckets.take('hot')]).toEqual([0, 0, 500]);
    for (let i = 0; i < 10_000; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBe(10_001);
    t = 1_000_100;
    expect(buckets.take('new-1')).toBe(0);
    expect(buckets.size).toBe(10_002);
    expect(buckets.take('hot')).toBe(400);
    // Later the k keys and new-1 have refilled (idle) while `hot` has not. The next sweep waits
    // until twice as many are held (20,000): it forgets the idle ones only.
    t = 1_000_700;
    for (let i = 0; i < 9_997; i++) buckets.take(`m${i}`);
    expect(buckets.size).toBe(19_999);
    buckets.take('m9997');
    expect(buckets.size).toBe(20_000);
    buckets.take('m9998');
    expect(buckets.size).toBe(10_000); // hot and m0…m9998
    expect(buckets.take('hot')).toBe(0);
    expect(buckets.take('hot')).toBeGreaterThan(0);
    // A forgotten key starts again with a full bucket, as it had.
    expect([buckets.take('k1'), buckets.take('k1'), buckets.take('k1')]).toEqual([0, 0, 500]);
  });
});

describe.each((await storeCases()).map((c) => [c.name, c.create] as const))(
  'engine rateLimit on %s',
  (_name, open) => {
    async function setup(events: EngineEvent[]) {
      const store: Store = await open();
      let t = 1_800_000_000_000;
      const engine = createSyncEngine({
        store,
        schema,
        rateLimit: { requests: 2, windowMs: 10_000 },
        clock: { now: () => t },
        onEvent: (e) => events.push(e),
      });
      return {
        engine,
        advance: (ms: number) => (t += ms),
        close: async () => {
          await engine.close();
          await store.close();
        },
      };
    }

    it('refuses the request over the limit with TOO_MANY_REQUESTS and retryAfterMs, writing nothing', async () => {
      const events: EngineEvent[] = [];
      const { engine, advance, close } = await setup(events);
      try {
        await engine.push(alice, upsert(1, 'a1'));
        await engine.push(alice, upsert(2, 'a2'));
        const error = await refusal(engine.push(alice, upsert(3, 'a3')));
        expect(error.code).toBe('TOO_MANY_REQUESTS');
        expect(error.status).toBe(429);
        expect(error.retryAfterMs).toBe(5000);
        expect(error.message).toMatch(/at most 2 requests per 10000 ms.*retry in 5 s/);
        expect(events.filter((e) => e.type === 'rate_limited')).toEqual([
          { type: 'rate_limited', actor: alice, op: 'push', retryAfterMs: 5000 },
        ]);

        // Nothing of the refused push was stored; bob (same scope) is not limited by alice's bucket.
        const seen = await engine.pull(bob, {});
        expect(seen.changes.map((c) => c.id).sort()).toEqual(['a1', 'a2']);
        // Every operation takes from the same bucket: alice's pull, full and stream are refused too.
        expect((await refusal(engine.pull(alice, {}))).code).toBe('TOO_MANY_REQUESTS');
        expect((await refusal(engine.full(alice, {}))).code).toBe('TOO_MANY_REQUESTS');
        expect((await refusal(() => engine.stream(alice, {}))).code).toBe('TOO_MANY_REQUESTS');

        advance(5000);
        const again = await engine.push(alice, upsert(3, 'a3'));
        expect(again.results[0]!.status).toBe('accepted');
        expect((await engine.pull(bob, {})).changes.map((c) => c.id).sort()).toEqual([
          'a1',
          'a2',
          'a3',
        ]);
      } finally {
        await close();
      }
    });
  },
);

describe('engine rateLimit options', () => {
  it('names a bad option at start-up', () => {
    const store = memoryStore();
    expect(() =>
      createSyncEngine({ store, schema, rateLimit: { requests: 0, windowMs: 1000 } }),
    ).toThrow(/option rateLimit\.requests/);
    expect(() =>
      createSyncEngine({ store, schema, rateLimit: { requests: 10, windowMs: 1.5 } }),
    ).toThrow(/option rateLimit\.windowMs/);
  });

  it('limits nothing when unset', async () => {
    const store = memoryStore();
    await store.init();
    const engine = createSyncEngine({ store, schema });
    for (let i = 1; i <= 50; i++) await engine.pull(alice, {});
    await engine.close();
  });
});
