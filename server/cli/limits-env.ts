/** The engine's limits from `SYNC_MAX_*` / `SYNC_*_LIMIT` environment variables, each checked with one clear line for a bad value. */
import { DEFAULT_LIMITS, DEFAULT_STREAM, limitsSchema } from '../engine/options.js';
import type { StreamOptions, SyncLimits } from '../engine/types.js';
import {
  pickTransportLimits,
  TRANSPORT_LIMIT_NAMES,
  type TransportLimits,
} from '../gateway/limits.js';
import {
  DEFAULT_MAX_BATCH_CALLS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_WS_AUTH_TIMEOUT_MS,
  MIN_WS_MAX_PAYLOAD,
  type RequestBounds,
} from '../http/request-bounds.js';

/** Which environment variable sets which engine limit (docs/limits.md lists the same table). */
export const LIMIT_ENV = {
  SYNC_MAX_BODY_BYTES: 'maxBodyBytes',
  SYNC_MAX_CHANGES_PER_PUSH: 'maxChangesPerPush',
  SYNC_MAX_DOC_BYTES: 'maxDocumentBytes',
  SYNC_MAX_DEPTH: 'maxDepth',
  SYNC_MAX_ID_LENGTH: 'maxIdLength',
  SYNC_PULL_DEFAULT_LIMIT: 'pullDefaultLimit',
  SYNC_PULL_MAX_LIMIT: 'pullMaxLimit',
  SYNC_FULL_DEFAULT_LIMIT: 'fullDefaultLimit',
  SYNC_FULL_MAX_LIMIT: 'fullMaxLimit',
  SYNC_MAX_URL_LENGTH: 'maxUrlLength',
  SYNC_MAX_QUERY_PARAMS: 'maxQueryParams',
  SYNC_MAX_MUTATION_ID_GAP: 'maxMutationIdGap',
  SYNC_MAX_VIEW_CHECKSUM_DOCS: 'maxViewChecksumDocs',
  SYNC_MAX_LIVE_CONNECTIONS_PER_ACTOR: 'maxLiveConnectionsPerActor',
  SYNC_MAX_SUBSCRIPTIONS_PER_CONNECTION: 'maxSubscriptionsPerConnection',
} as const satisfies Record<string, keyof SyncLimits>;

/** Help lines for the limit variables (defaults from `DEFAULT_LIMITS`). */
export const LIMITS_HELP = `  Limits (positive integers; defaults in parentheses; see docs/limits.md):
${Object.entries(LIMIT_ENV)
  .map(([name, key]) => `  ${name.padEnd(38)}${key} (${DEFAULT_LIMITS[key]})`)
  .join('\n')}
  ${'SYNC_STREAM_MAX_BUFFERED_BYTES'.padEnd(38)}stream.maxBufferedBytes (${DEFAULT_STREAM.maxBufferedBytes}): held for a peer that stops reading
`;

/**
 * Reads every `LIMIT_ENV` variable that is set (empty counts as unset). A value that is no
 * positive integer, is out of the engine's range, or leaves a default page size above its
 * maximum throws an Error naming the variable; `fail` turns the message into the CLI's error type.
 */
export function readLimitsEnv(
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error = (m) => new Error(m),
): Partial<SyncLimits> {
  const limits: Partial<SyncLimits> = {};
  const nameOf = new Map<string, string>();
  for (const [name, key] of Object.entries(LIMIT_ENV)) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    // Underscores are allowed as digit separators (16_777_216).
    if (
      !/^[0-9][0-9_]{0,15}$/.test(raw) ||
      Number(raw.replace(/_/g, '')) < 1 ||
      !Number.isSafeInteger(Number(raw.replace(/_/g, '')))
    ) {
      throw fail(
        `${name}: expected a positive integer (${key}, default ${DEFAULT_LIMITS[key]}), got "${env[name]}"`,
      );
    }
    limits[key] = Number(raw.replace(/_/g, ''));
    nameOf.set(key, name);
  }
  const merged = { ...DEFAULT_LIMITS, ...limits };
  const checked = limitsSchema.safeParse(merged);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const key = String(issue.path[0]);
    throw fail(
      `${nameOf.get(key) ?? key}: ${issue.message.replace(/^Too big: expected number to be <=/, 'must be at most ').replace(/^Too small: expected number to be >=?/, 'must be at least ')} (${key})`,
    );
  }
  for (const [def, max] of [
    ['pullDefaultLimit', 'pullMaxLimit'],
    ['fullDefaultLimit', 'fullMaxLimit'],
  ] as const) {
    if (merged[def] > merged[max]) {
      const culprit = nameOf.get(def) ?? nameOf.get(max)!;
      throw fail(`${culprit}: ${def} (${merged[def]}) must not exceed ${max} (${merged[max]})`);
    }
  }
  return limits;
}

/**
 * `SYNC_STREAM_MAX_BUFFERED_BYTES`: bytes one live connection may hold for a peer that does not
 * read before it is told to resync and closed (engine `stream.maxBufferedBytes`, at least 1024).
 */
export function readStreamEnv(
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error = (m) => new Error(m),
): Partial<StreamOptions> {
  const raw = env.SYNC_STREAM_MAX_BUFFERED_BYTES?.trim().replace(/_/g, '');
  if (!raw) return {};
  if (!/^[0-9]{1,15}$/.test(raw) || Number(raw) < 1024) {
    throw fail(
      `SYNC_STREAM_MAX_BUFFERED_BYTES: expected a whole number of bytes, at least 1024 (stream.maxBufferedBytes, default ${DEFAULT_STREAM.maxBufferedBytes}), got "${env.SYNC_STREAM_MAX_BUFFERED_BYTES}"`,
    );
  }
  return { maxBufferedBytes: Number(raw) };
}

/** `SYNC_TRUST_PROXY`: how many proxies' `X-Forwarded-For` to trust (0 or unset: none). */
export function parseTrustProxy(
  value: string | undefined,
  fail: (message: string) => Error = (m) => new Error(m),
): number {
  const raw = value?.trim();
  if (!raw) return 0;
  if (!/^[0-9]{1,2}$/.test(raw))
    throw fail(
      `SYNC_TRUST_PROXY: expected the number of proxies in front of the server (0-99, usually 1), got "${value}"`,
    );
  return Number(raw);
}

/** Which environment variable sets which transport bound of `createSyncHttpServer` (docs/limits.md lists the same table). */
export const REQUEST_BOUNDS_ENV = {
  SYNC_MAX_BATCH_CALLS: {
    key: 'maxBatchCalls',
    min: 1,
    fallback: `${DEFAULT_MAX_BATCH_CALLS}`,
    what: 'calls one tRPC batch (HTTP request or WebSocket frame) may carry',
  },
  SYNC_MAX_RESPONSE_BYTES: {
    key: 'maxResponseBytes',
    min: 1024,
    fallback: `${DEFAULT_MAX_RESPONSE_BYTES}`,
    what: 'bytes of answers one tRPC request may assemble',
  },
  SYNC_WS_MAX_PAYLOAD_BYTES: {
    key: 'wsMaxPayloadBytes',
    min: MIN_WS_MAX_PAYLOAD,
    fallback: 'SYNC_MAX_BODY_BYTES',
    what: 'largest WebSocket frame, refused before it is read (raw stream faces: at most 65536)',
  },
  SYNC_WS_AUTH_TIMEOUT_MS: {
    key: 'wsAuthTimeoutMs',
    min: 0,
    fallback: `${DEFAULT_WS_AUTH_TIMEOUT_MS}`,
    what: 'time a WebSocket has to authenticate, then closed (0: no timeout on tRPC)',
  },
} as const satisfies Record<
  string,
  { key: keyof RequestBounds; min: number; fallback: string; what: string }
>;

/** Help lines for the transport-bound variables. */
export const REQUEST_BOUNDS_HELP = `  Request and socket bounds (whole numbers; defaults in parentheses; see docs/limits.md):
${Object.entries(REQUEST_BOUNDS_ENV)
  .map(([name, b]) => `  ${name.padEnd(38)}${b.key} (${b.fallback}): ${b.what}`)
  .join('\n')}
`;

/**
 * Reads the `REQUEST_BOUNDS_ENV` variables that are set (empty counts as unset); a value that is
 * no whole number or is below its minimum throws an Error naming the variable.
 */
export function readRequestBoundsEnv(
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error = (m) => new Error(m),
): RequestBounds {
  const bounds: RequestBounds = {};
  for (const [name, b] of Object.entries(REQUEST_BOUNDS_ENV)) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw.replace(/_/g, ''));
    if (
      !/^[0-9][0-9_]{0,15}$/.test(raw) ||
      !Number.isSafeInteger(value) ||
      value < b.min ||
      (b.key === 'wsAuthTimeoutMs' && value > 2_147_483_647)
    ) {
      const range = b.min === 0 ? 'a whole number, 0 or more' : `a whole number, at least ${b.min}`;
      throw fail(
        `${name}: expected ${range} (${b.key}, default ${b.fallback}), got "${env[name]}"`,
      );
    }
    bounds[b.key] = value;
  }
  return bounds;
}

/**
 * Splits what the `SYNC_MAX_*` / `SYNC_STREAM_*` table read into the engine's options and the
 * gateway's transport limits (body, URL, query, live caps, slow-consumer bounds), so one env
 * table fills both and the engine is given only what it reads.
 */
export function splitLimits(
  limits: Partial<SyncLimits>,
  stream: Partial<StreamOptions>,
): {
  limits: Partial<SyncLimits>;
  stream: Partial<StreamOptions>;
  transport: Partial<TransportLimits>;
} {
  const own = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(
      Object.entries(o).filter(([k]) => !(TRANSPORT_LIMIT_NAMES as string[]).includes(k)),
    ) as Partial<T>;
  return {
    limits: own(limits),
    stream: own(stream),
    transport: pickTransportLimits({ ...limits, ...stream }),
  };
}
