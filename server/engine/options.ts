/** Engine option defaults, merged and validated once at start-up. */
import { z } from 'zod';
import type { RateLimitOptions } from './rate-limit.js';
import type {
  DeletePolicy,
  ForwardedTransportLimits,
  RetentionOptions,
  StreamOptions,
  SyncEngineOptions,
  SyncLimits,
} from './types.js';

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
  maxViewChecksumDocs: 100_000,
};

export const DEFAULT_STREAM: StreamOptions = {
  heartbeatMs: 15_000,
  maxQueue: 1000,
  pollMs: 5000,
  maxBufferedBytes: 1024 * 1024,
  slowConsumerGraceMs: 5000,
};

export const DEFAULT_RETENTION: RetentionOptions = {
  maxAgeMs: 30 * 24 * 3600 * 1000,
  pruneIntervalMs: 3_600_000,
};

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
  maxViewChecksumDocs: positiveInt,
});
const streamSchema = z.object({
  heartbeatMs: positiveInt,
  maxQueue: positiveInt,
  pollMs: positiveInt,
  maxBufferedBytes: positiveInt.min(1024),
  slowConsumerGraceMs: z.number().int().nonnegative(),
});
const retentionSchema = z.object({
  maxAgeMs: positiveInt,
  pruneIntervalMs: z.number().int().nonnegative(),
});
const rateLimitSchema = z.object({
  requests: positiveInt,
  windowMs: positiveInt,
  key: z
    .custom<RateLimitOptions['key']>(
      (v) => v === undefined || typeof v === 'function',
      'expected a function',
    )
    .optional(),
});
const policySchema = z.enum(['resurrect_on_update', 'reject_update', 'delete_wins']);

/**
 * The transport limits the engine's options still accept under their old names: the engine neither
 * checks nor reads them, it only hands them to the faces (the gateway checks them once).
 */
const TRANSPORT_NAMES = [
  'maxBodyBytes',
  'maxUrlLength',
  'maxQueryParams',
  'maxLiveConnectionsPerActor',
  'maxSubscriptionsPerConnection',
  'maxBufferedBytes',
  'slowConsumerGraceMs',
] as const;

/** Splits the transport names off `given` (engine options left, forwarded values right). */
function splitTransport<T extends object>(
  given: T | undefined,
): [Partial<T>, ForwardedTransportLimits] {
  const own: Record<string, unknown> = {};
  const forwarded: Record<string, number> = {};
  for (const [name, value] of Object.entries(given ?? {})) {
    if ((TRANSPORT_NAMES as readonly string[]).includes(name)) {
      if (value !== undefined) forwarded[name] = value as number;
    } else own[name] = value;
  }
  return [own as Partial<T>, forwarded];
}

const engineLimitsSchema = limitsSchema.omit({
  maxBodyBytes: true,
  maxUrlLength: true,
  maxQueryParams: true,
  maxLiveConnectionsPerActor: true,
  maxSubscriptionsPerConnection: true,
});
const engineStreamSchema = streamSchema.omit({ maxBufferedBytes: true, slowConsumerGraceMs: true });

/** Resolved options: defaults merged, checked, with a clear message for a bad one. */
export interface ResolvedOptions {
  limits: SyncLimits;
  stream: StreamOptions;
  /** Transport limits given under their old names, forwarded to the faces (unchecked here). */
  transport: ForwardedTransportLimits;
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
  const [ownLimits, fromLimits] = splitTransport(options.limits);
  const [ownStream, fromStream] = splitTransport(options.stream);
  const {
    maxBodyBytes: _b,
    maxUrlLength: _u,
    maxQueryParams: _q,
    ...engineDefaults
  } = DEFAULT_LIMITS;
  const {
    maxLiveConnectionsPerActor: _c,
    maxSubscriptionsPerConnection: _s,
    ...engineLimits
  } = engineDefaults;
  const limits: SyncLimits = check(engineLimitsSchema, { ...engineLimits, ...ownLimits }, 'limits');
  if (limits.pullDefaultLimit > limits.pullMaxLimit)
    throw new Error(
      'createSyncEngine: limits.pullDefaultLimit must not exceed limits.pullMaxLimit',
    );
  if (limits.fullDefaultLimit > limits.fullMaxLimit)
    throw new Error(
      'createSyncEngine: limits.fullDefaultLimit must not exceed limits.fullMaxLimit',
    );
  if (limits.maxMutationIdGap < limits.maxChangesPerPush)
    throw new Error(
      'createSyncEngine: limits.maxMutationIdGap must be at least limits.maxChangesPerPush',
    );
  const { maxBufferedBytes: _m, slowConsumerGraceMs: _g, ...streamDefaults } = DEFAULT_STREAM;
  const stream: StreamOptions = check(
    engineStreamSchema,
    { ...streamDefaults, ...ownStream },
    'stream',
  );
  const retention = check(
    retentionSchema,
    { ...DEFAULT_RETENTION, ...options.retention },
    'retention',
  );
  const policy = options.deletePolicy ?? 'resurrect_on_update';
  let deletePolicy: (collection: string) => DeletePolicy;
  if (typeof policy === 'string') {
    const p = check(policySchema, policy, 'deletePolicy');
    deletePolicy = () => p;
  } else {
    const map = check(z.record(z.string(), policySchema), policy, 'deletePolicy');
    for (const name of Object.keys(map)) {
      if (!options.schema.has(name))
        throw new Error(`createSyncEngine: deletePolicy names unknown collection "${name}"`);
    }
    deletePolicy = (collection) => map[collection] ?? 'resurrect_on_update';
  }
  for (const name of Object.keys(options.resolvers ?? {})) {
    if (!options.schema.has(name))
      throw new Error(`createSyncEngine: resolvers names unknown collection "${name}"`);
  }
  const rateLimit =
    options.rateLimit === undefined
      ? null
      : (check(rateLimitSchema, options.rateLimit, 'rateLimit') as RateLimitOptions);
  return {
    limits,
    stream,
    retention,
    deletePolicy,
    rateLimit,
    transport: { ...fromLimits, ...fromStream },
  };
}
