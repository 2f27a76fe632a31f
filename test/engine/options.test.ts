// The engine's options on their own: defaults merged, every bad value refused at start-up with a
// message naming the option, transport limits under their old names forwarded, not checked here.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';
import {
  DEFAULT_LIMITS,
  DEFAULT_RETENTION,
  DEFAULT_STREAM,
  resolveOptions,
} from '../../server/engine/options.js';
import type { SyncEngineOptions } from '../../server/engine/types.js';
import type { Store } from '../../server/stores/store.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string() }),
  notes: z.object({ body: z.string() }),
});
/** resolveOptions never touches the store. */
const store = {} as Store;
const resolve = (options: Partial<SyncEngineOptions> = {}) =>
  resolveOptions({ store, schema, ...options } as SyncEngineOptions);
const { maxBodyBytes, maxUrlLength, maxQueryParams, ...rest } = DEFAULT_LIMITS;
const { maxLiveConnectionsPerActor, maxSubscriptionsPerConnection, ...engineLimits } = rest;
const { maxBufferedBytes, slowConsumerGraceMs, ...engineStream } = DEFAULT_STREAM;

describe('resolveOptions', () => {
  it('no options: the engine defaults, nothing forwarded, no rate limit, resurrect_on_update everywhere', () => {
    const r = resolve();
    expect(r.limits).toEqual(engineLimits);
    expect(r.stream).toEqual(engineStream);
    expect(r.retention).toEqual(DEFAULT_RETENTION);
    expect(r.transport).toEqual({});
    expect(r.rateLimit).toBeNull();
    expect(r.deletePolicy('tasks')).toBe('resurrect_on_update');
    // The transport limits are the gateway's: the engine's resolved limits do not hold them.
    for (const name of ['maxBodyBytes', 'maxUrlLength', 'maxQueryParams'])
      expect(r.limits).not.toHaveProperty(name);
    expect([maxBodyBytes, maxUrlLength, maxQueryParams]).not.toContain(undefined);
    expect([maxLiveConnectionsPerActor, maxSubscriptionsPerConnection]).not.toContain(undefined);
    expect([maxBufferedBytes, slowConsumerGraceMs]).not.toContain(undefined);
  });

  it('merges given values over the defaults, one by one', () => {
    const r = resolve({
      limits: { pullMaxLimit: 50, pullDefaultLimit: 20 },
      stream: { heartbeatMs: 99 },
      retention: { maxAgeMs: 1000 },
    });
    expect(r.limits).toEqual({ ...engineLimits, pullMaxLimit: 50, pullDefaultLimit: 20 });
    expect(r.stream).toEqual({ ...engineStream, heartbeatMs: 99 });
    expect(r.retention).toEqual({ ...DEFAULT_RETENTION, maxAgeMs: 1000 });
  });

  it('forwards transport limits given under their old names to the faces, unchecked; undefined ones are left out', () => {
    const r = resolve({
      limits: {
        maxBodyBytes: 5,
        maxUrlLength: 7,
        maxQueryParams: undefined,
        maxLiveConnectionsPerActor: 2,
        maxSubscriptionsPerConnection: 3,
        maxChangesPerPush: 10,
      },
      stream: { maxBufferedBytes: 9, slowConsumerGraceMs: 0, pollMs: 77 },
    });
    expect(r.transport).toEqual({
      maxBodyBytes: 5,
      maxUrlLength: 7,
      maxLiveConnectionsPerActor: 2,
      maxSubscriptionsPerConnection: 3,
      maxBufferedBytes: 9,
      slowConsumerGraceMs: 0,
    });
    expect(r.transport).not.toHaveProperty('maxQueryParams');
    expect(r.limits.maxChangesPerPush).toBe(10);
    expect(r.stream.pollMs).toBe(77);
    expect(r.limits).not.toHaveProperty('maxBodyBytes');
    expect(r.stream).not.toHaveProperty('maxBufferedBytes');
  });

  it('refuses a bad limit, stream or retention value, naming option and field', () => {
    expect(() => resolve({ limits: { maxChangesPerPush: 0 } })).toThrow(
      /^createSyncEngine: option limits\.maxChangesPerPush: /,
    );
    expect(() => resolve({ limits: { maxIdLength: 257 } })).toThrow(/option limits\.maxIdLength: /);
    expect(() => resolve({ limits: { maxDepth: 1.5 } })).toThrow(/option limits\.maxDepth: /);
    expect(() => resolve({ stream: { heartbeatMs: -1 } })).toThrow(/option stream\.heartbeatMs: /);
    expect(() => resolve({ retention: { maxAgeMs: 0 } })).toThrow(/option retention\.maxAgeMs: /);
    // Zero turns the scheduled prune off: allowed.
    expect(resolve({ retention: { pruneIntervalMs: 0 } }).retention.pruneIntervalMs).toBe(0);
  });

  it('refuses a default page above its maximum and a mutation-id gap below a push; equal is fine', () => {
    expect(() => resolve({ limits: { pullDefaultLimit: 11, pullMaxLimit: 10 } })).toThrow(
      'createSyncEngine: limits.pullDefaultLimit must not exceed limits.pullMaxLimit',
    );
    expect(
      resolve({ limits: { pullDefaultLimit: 10, pullMaxLimit: 10 } }).limits.pullMaxLimit,
    ).toBe(10);
    expect(() => resolve({ limits: { fullDefaultLimit: 11, fullMaxLimit: 10 } })).toThrow(
      'createSyncEngine: limits.fullDefaultLimit must not exceed limits.fullMaxLimit',
    );
    expect(
      resolve({ limits: { fullDefaultLimit: 10, fullMaxLimit: 10 } }).limits.fullMaxLimit,
    ).toBe(10);
    expect(() => resolve({ limits: { maxMutationIdGap: 9, maxChangesPerPush: 10 } })).toThrow(
      'createSyncEngine: limits.maxMutationIdGap must be at least limits.maxChangesPerPush',
    );
    expect(
      resolve({ limits: { maxMutationIdGap: 10, maxChangesPerPush: 10 } }).limits.maxMutationIdGap,
    ).toBe(10);
  });

  it('deletePolicy: one for all, or by collection with resurrect_on_update for the others', () => {
    expect(resolve({ deletePolicy: 'delete_wins' }).deletePolicy('notes')).toBe('delete_wins');
    const byCollection = resolve({ deletePolicy: { tasks: 'reject_update' } }).deletePolicy;
    expect(byCollection('tasks')).toBe('reject_update');
    expect(byCollection('notes')).toBe('resurrect_on_update');
    expect(() => resolve({ deletePolicy: 'never' as never })).toThrow(/option deletePolicy\.: /);
    expect(() => resolve({ deletePolicy: { tasks: 'never' } as never })).toThrow(
      /option deletePolicy\.tasks: /,
    );
    expect(() => resolve({ deletePolicy: { cats: 'delete_wins' } as never })).toThrow(
      'createSyncEngine: deletePolicy names unknown collection "cats"',
    );
  });

  it('resolvers must name collections of the schema', () => {
    const resolver = () => ({ title: 'x' });
    expect(() => resolve({ resolvers: { cats: resolver } as never })).toThrow(
      'createSyncEngine: resolvers names unknown collection "cats"',
    );
    expect(() => resolve({ resolvers: { tasks: resolver } as never })).not.toThrow();
  });

  it('rateLimit: checked when given (a key must be a function), null when not', () => {
    const key = () => 'k';
    expect(resolve({ rateLimit: { requests: 5, windowMs: 1000 } }).rateLimit).toEqual({
      requests: 5,
      windowMs: 1000,
    });
    expect(resolve({ rateLimit: { requests: 5, windowMs: 1000, key } }).rateLimit?.key).toBe(key);
    expect(() => resolve({ rateLimit: { requests: 0, windowMs: 1000 } })).toThrow(
      /option rateLimit\.requests: /,
    );
    expect(() =>
      resolve({ rateLimit: { requests: 1, windowMs: 1000, key: 'ip' as never } }),
    ).toThrow(/option rateLimit\.key: expected a function/);
  });
});
