/** Error classification (network, resync, fatal) and exponential backoff with jitter. */

/** Backoff settings for retried pushes, pulls and stream restarts. */
export interface RetryOptions {
  /** Retries after the first attempt inside one `sync()` call. @default 5 */
  retries: number;
  /** Delay before the first retry (ms); doubles each time. @default 250 */
  baseMs: number;
  /** Largest delay (ms). @default 30000 */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, baseMs: 250, maxMs: 30_000 };

/** The delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(
  attempt: number,
  options: RetryOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * The delay before retry number `attempt` after `error`: the backoff, or longer when the server
 * said when to come back (`TOO_MANY_REQUESTS` with `data.sync.retryAfterMs`), never above `maxMs`.
 */
export function retryDelay(
  error: unknown,
  attempt: number,
  options: RetryOptions,
  random: () => number = Math.random,
): number {
  const backoff = backoffDelay(attempt, options, random);
  const after = (error as ErrorLike | null)?.data?.sync?.retryAfterMs;
  return typeof after === 'number' && after > backoff ? Math.min(after, options.maxMs) : backoff;
}

interface ErrorLike {
  message?: unknown;
  data?: {
    code?: unknown;
    httpStatus?: unknown;
    sync?: { code?: unknown; issues?: unknown; retryAfterMs?: unknown; recorded?: unknown } | null;
  } | null;
}

/** Why the server refused a whole push request because of what it holds (see `pushRefusal`), or why a lone change is dead-lettered after repeated failures. */
export interface PushRefusal {
  /** `BAD_REQUEST` / `PAYLOAD_TOO_LARGE` from `pushRefusal`; for a change dead-lettered after repeated failures, the failure's code (`INTERNAL_SERVER_ERROR`, …). */
  code: string;
  message: string;
  /** The server's field issues (`data.sync.issues`), paths like `changes.2.data.title`. */
  issues: { path: string; message: string }[];
}

/** tRPC error codes and HTTP statuses that say "try again later" rather than "this request is wrong". */
const RETRYABLE_CODES = new Set([
  'TIMEOUT',
  'TOO_MANY_REQUESTS',
  'CLIENT_CLOSED_REQUEST',
  'INTERNAL_SERVER_ERROR',
  'BAD_GATEWAY',
  'SERVICE_UNAVAILABLE',
  'GATEWAY_TIMEOUT',
]);

/**
 * True when the server answered "your checkpoint is older than the retained history":
 * a tRPC `CONFLICT` whose `data.sync.code` (or message) says RESYNC_REQUIRED.
 */
export function isResyncRequired(error: unknown): boolean {
  const e = error as ErrorLike | null;
  if (typeof e !== 'object' || e === null) return false;
  if (e.data?.sync?.code === 'RESYNC_REQUIRED') return true;
  if (e.data?.sync?.code === 'CLIENT_ID_CONFLICT') return false;
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    (e.data?.code === 'CONFLICT' || e.data == null) &&
    /RESYNC_REQUIRED|resync required/i.test(message)
  );
}

/**
 * The server's CLIENT_ID_CONFLICT (409): this client id's ledger holds other changes under the
 * push's mutation ids (the local store was copied from another device) or belongs to another user.
 * Nothing was applied; `recorded` lists the push's ids the server holds as these very changes.
 * `null` for any other error.
 */
export function clientIdConflict(error: unknown): { recorded: number[] } | null {
  const sync = (error as ErrorLike | null)?.data?.sync;
  if (sync?.code !== 'CLIENT_ID_CONFLICT') return null;
  const recorded = Array.isArray(sync.recorded)
    ? sync.recorded.filter((id): id is number => Number.isSafeInteger(id))
    : [];
  return { recorded };
}

/** The error's sync code (`data.sync.code`) or tRPC code (`data.code`), if it has one. */
export function errorCode(error: unknown): string | null {
  const data = (error as ErrorLike | null)?.data;
  const code = data?.sync?.code ?? data?.code;
  return typeof code === 'string' ? code : null;
}

/** True when the server refused the caller's token (tRPC `UNAUTHORIZED`, HTTP 401). */
export function isUnauthorized(error: unknown): boolean {
  const data = (error as ErrorLike | null)?.data;
  return (
    data?.code === 'UNAUTHORIZED' || data?.sync?.code === 'UNAUTHORIZED' || data?.httpStatus === 401
  );
}

/** True when the server needs a newer client schema version (`UPGRADE_REQUIRED`, HTTP 426). */
export function isUpgradeRequired(error: unknown): boolean {
  const data = (error as ErrorLike | null)?.data;
  return data?.sync?.code === 'UPGRADE_REQUIRED' || data?.httpStatus === 426;
}

/**
 * True when retrying may help: no answer from the server at all (network down, link threw,
 * connection closed: tRPC errors without `data`), or a 408/429/5xx answer.
 */
export function isRetryable(error: unknown): boolean {
  const data = (error as ErrorLike | null)?.data;
  if (data == null) return true;
  if (data.sync?.code === 'UPGRADE_REQUIRED' || data.sync?.code === 'CLIENT_ID_CONFLICT')
    return false;
  if (typeof data.code === 'string' && RETRYABLE_CODES.has(data.code)) return true;
  const status = typeof data.httpStatus === 'number' ? data.httpStatus : 0;
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The server refused a push request as a whole because of its changes — `BAD_REQUEST` (a change
 * its schema does not accept) or `PAYLOAD_TOO_LARGE` (a document, the batch or the body too
 * large) — as opposed to a network failure (retried) or a request-level problem. A `BAD_REQUEST`
 * whose issues name no change (e.g. only `clientId`) is not a refusal of the changes: `null`.
 */
export function pushRefusal(error: unknown): PushRefusal | null {
  const e = error as ErrorLike | null;
  const data = e?.data;
  if (
    typeof e !== 'object' ||
    e === null ||
    data == null ||
    isRetryable(error) ||
    isResyncRequired(error)
  )
    return null;
  let code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | null = null;
  if (data.sync) {
    if (data.sync.code === 'BAD_REQUEST' || data.sync.code === 'PAYLOAD_TOO_LARGE')
      code = data.sync.code;
  } else if (data.code === 'PAYLOAD_TOO_LARGE' || data.httpStatus === 413) {
    code = 'PAYLOAD_TOO_LARGE'; // a body limit of tRPC or a proxy: still about how much the request holds
  } else if (data.code === 'BAD_REQUEST' && data.sync === undefined) {
    code = 'BAD_REQUEST'; // a server without the sync error formatter (`data.sync: null` means "not from the sync kit": request-level)
  }
  if (code === null) return null;
  const raw = Array.isArray(data.sync?.issues) ? (data.sync.issues as unknown[]) : [];
  const issues = raw.flatMap((i) => {
    const issue = i as { path?: unknown; message?: unknown } | null;
    return issue && typeof issue.path === 'string'
      ? [{ path: issue.path, message: typeof issue.message === 'string' ? issue.message : '' }]
      : [];
  });
  // A request-level BAD_REQUEST (bad clientId, malformed request): isolating changes would refuse every one of them.
  if (
    code === 'BAD_REQUEST' &&
    issues.length > 0 &&
    !issues.some((i) => i.path === 'changes' || i.path.startsWith('changes.'))
  )
    return null;
  return { code, message: typeof e.message === 'string' ? e.message : code, issues };
}

/** An aborted signal's reason (typed loosely: React Native's AbortSignal type has no `reason`). */
const reasonOf = (signal: AbortSignal): unknown =>
  (signal as { reason?: unknown }).reason ?? new Error('aborted');

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(reasonOf(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(reasonOf(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn`, retrying retryable failures with backoff; the last error (or a fatal one) is thrown.
 * An UNAUTHORIZED answer is retried once, at once, after `refreshToken` (when given) got a new token.
 * `guard` runs before every attempt and may throw to stop (the platform went offline: no request).
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  options: RetryOptions,
  onRetry?: (error: unknown, attempt: number) => void,
  refreshToken?: () => Promise<unknown>,
  guard?: () => void,
): Promise<T> {
  let refreshed = false;
  for (let attempt = 0; ; attempt++) {
    try {
      guard?.();
      return await fn();
    } catch (error) {
      if (refreshToken && !refreshed && isUnauthorized(error)) {
        refreshed = true;
        await refreshToken();
        attempt--;
        continue;
      }
      if (!isRetryable(error) || isResyncRequired(error) || attempt >= options.retries) throw error;
      guard?.(); // gone offline: stop now rather than after the backoff
      onRetry?.(error, attempt);
      await sleep(retryDelay(error, attempt, options));
    }
  }
}
