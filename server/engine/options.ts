/** Engine option defaults, merged and validated once at start-up. */
import { z } from 'zod';
import type { RateLimitOptions } from './rate-limit.js';
import type { RetentionOptions, StreamOptions, SyncLimits, SyncEngineOptions, DeletePolicy } from './types.js';

/** Every limit's default (see `SyncLimits` for why each exists). */
export const DEFAULT_LIMITS: SyncLimits = {
  maxChangesPerPush: 1000,
  maxDocumentBytes: 1_000_000,
  pullDefaultLimit: 500,
  pullMaxLimit: 1000,
  fullDefaultLimit: 1000,
  fullMaxLimit: 10_000,
  maxBodyBytes: 16 * 1024 * 1024,
  maxDepth: 32,
  maxIdLength: 256,
  maxLiveConnectionsPerActor: 16,
  maxSubscriptionsPerConnection: 32,
  maxUrlLength: 10_000,
  maxQueryParams: 16,
  maxMutationIdGap: 1_000_000_000,
};

export const DEFAULT_STREAM: StreamOptions = { heartbeatMs: 15_000, maxQueue: 1000, pollMs: 5000, maxBufferedBytes: 1024 * 1024, slowConsumerGraceMs: 5000 };

export const DEFAULT_RETENTION: RetentionOptions = { maxAgeMs: 30 * 24 * 3600 * 1000, pruneIntervalMs: 3_600_000 };

const positiveInt = z.number().int().positive();
/** The range of each limit (also used to check the CLI's `SYNC_MAX_*` variables). */
export const limitsSchema = z.object({
  maxChangesPerPush: positiveInt,
  maxDocumentBytes: positiveInt,
  pullDefaultLimit: positiveInt,
  pullMaxLimit: positiveInt,
  fullDefaultLimit: positiveInt,
  fullMaxLimit: positiveInt,
  maxBodyBytes: positiveInt,
  maxDepth: positiveInt.max(1000),
  maxIdLength: positiveInt.max(256),
  maxLiveConnectionsPerActor: positiveInt,
  maxSubscriptionsPerConnection: positiveInt,
  maxUrlLength: positiveInt.min(64),
  maxQueryParams: positiveInt.max(1000),
  maxMutationIdGap: positiveInt.max(Number.MAX_SAFE_INTEGER),
});
const streamSchema = z.object({
  heartbeatMs: positiveInt,
  maxQueue: positiveInt,
  pollMs: positiveInt,
  maxBufferedBytes: positiveInt.min(1024),
  slowConsumerGraceMs: z.number().int().nonnegative(),
});
const retentionSchema = z.object({ maxAgeMs: positiveInt, pruneIntervalMs: z.number().int().nonnegative() });
const rateLimitSchema = z.object({
  requests: positiveInt,
  windowMs: positiveInt,
  key: z.custom<RateLimitOptions['key']>((v) => v === undefined || typeof v === 'function', 'expected a function').optional(),
});
const policySchema = z.enum(['resurrect_on_update', 'reject_update', 'delete_wins']);

/** Resolved options: defaults merged, checked, with a clear message for a bad one. */
export interface ResolvedOptions {
  limits: SyncLimits;
  stream: StreamOptions;
  retention: RetentionOptions;
  deletePolicy: (collection: string) => DeletePolicy;
  rateLimit: RateLimitOptions | null;
}

function check<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`createSyncEngine: option ${name}.${issue.path.join('.')}: ${issue.message}`);
  }
  return result.data;
}

export function resolveOptions(options: SyncEngineOptions): ResolvedOptions {
  const limits = check(limitsSchema, { ...DEFAULT_LIMITS, ...options.limits }, 'limits');
  if (limits.pullDefaultLimit > limits.pullMaxLimit) throw new Error('createSyncEngine: limits.pullDefaultLimit must not exceed limits.pullMaxLimit');
  if (limits.fullDefaultLimit > limits.fullMaxLimit) throw new Error('createSyncEngine: limits.fullDefaultLimit must not exceed limits.fullMaxLimit');
  if (limits.maxMutationIdGap < limits.maxChangesPerPush) throw new Error('createSyncEngine: limits.maxMutationIdGap must be at least limits.maxChangesPerPush');
  const stream = check(streamSchema, { ...DEFAULT_STREAM, ...options.stream }, 'stream');
  const retention = check(retentionSchema, { ...DEFAULT_RETENTION, ...options.retention }, 'retention');
  const policy = options.deletePolicy ?? 'resurrect_on_update';
  let deletePolicy: (collection: string) => DeletePolicy;
  if (typeof policy === 'string') {
    const p = check(policySchema, policy, 'deletePolicy');
    deletePolicy = () => p;
  } else {
    const map = check(z.record(z.string(), policySchema), policy, 'deletePolicy');
    for (const name of Object.keys(map)) {
      if (!options.schema.has(name)) throw new Error(`createSyncEngine: deletePolicy names unknown collection "${name}"`);
    }
    deletePolicy = (collection) => map[collection] ?? 'resurrect_on_update';
  }
  for (const name of Object.keys(options.resolvers ?? {})) {
    if (!options.schema.has(name)) throw new Error(`createSyncEngine: resolvers names unknown collection "${name}"`);
  }
  const rateLimit = options.rateLimit === undefined ? null : (check(rateLimitSchema, options.rateLimit, 'rateLimit') as RateLimitOptions);
  return { limits, stream, retention, deletePolicy, rateLimit };
}
