/**
 * Request ids and the one report of an unexpected failure: no `node:` import, so any runtime can
 * use it.
 */

const ID = Symbol.for('trpc-offline-sync.requestId');
const REPORTED = Symbol.for('trpc-offline-sync.reported');

/** What every face reports about an unexpected failure, in one shape (`onError`). */
export interface UnexpectedError {
  /**
   * Sent to the client (`error.requestId`, `X-Request-Id`, tRPC `data.sync.requestId`) and logged.
   */
  requestId: string;
  /** The operation that failed, e.g. `POST /sync/push`, `trpc sync.push`, `ws /sync/stream`. */
  op: string;
  error: unknown;
}

/** The one `onError` signature of every face: told of each unexpected failure once. */
export type OnUnexpectedError = (info: UnexpectedError) => void;

/** A new request id: 16 hex digits, unique enough to grep for in logs. */
export function newRequestId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** An object's symbol slots, or null for a primitive (which cannot carry an id). */
function slots(error: unknown): Record<symbol, unknown> | null {
  return typeof error === 'object' && error !== null ? (error as Record<symbol, unknown>) : null;
}

/**
 * The request id of an error object, assigned on first use, so every layer that sees the same
 * failure (the log hook, the error formatter) names the same id. Non-objects get a fresh id.
 */
export function requestIdOf(error: unknown): string {
  const holder = slots(error);
  if (!holder) return newRequestId();
  const cause = (error as { cause?: unknown }).cause;
  const existing = holder[ID] ?? slots(cause)?.[ID];
  if (typeof existing === 'string') return existing;
  const id = newRequestId();
  try {
    Object.defineProperty(error, ID, { value: id, enumerable: false });
  } catch {
    // a frozen error: the id is not remembered, still logged and answered once
  }
  return id;
}

/**
 * Reports `error` to `report` unless it (or the error it wraps as `cause`) was reported already,
 * so a failure seen by two layers (a face and its adapter) is logged once. The id is `error`'s;
 * `shown` is what the report names (e.g. the cause of a wrapping TRPCError). Never throws.
 */
export function reportOnce(
  report: OnUnexpectedError,
  op: string,
  error: unknown,
  shown: unknown = error,
): string {
  const requestId = requestIdOf(error);
  const holder = slots(error);
  const cause = slots((error as { cause?: unknown } | null)?.cause);
  if (holder?.[REPORTED] || cause?.[REPORTED]) return requestId;
  for (const h of [holder, cause]) {
    try {
      if (h) Object.defineProperty(h, REPORTED, { value: true, enumerable: false });
    } catch {
      // frozen: may be reported twice, never lost
    }
  }
  try {
    report({ requestId, op, error: shown });
  } catch {
    // a failing log hook does not change the answer
  }
  return requestId;
}

/** The error, its message and its stack as log fields (never the request's data). */
export function describeError(error: unknown): {
  message: string;
  name?: string;
  code?: string;
  stack?: string;
} {
  const e = error as { message?: unknown; name?: unknown; code?: unknown; stack?: unknown } | null;
  const out: { message: string; name?: string; code?: string; stack?: string } = {
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
  if (typeof e?.name === 'string') out.name = e.name;
  if (typeof e?.code === 'string') out.code = e.code;
  if (typeof e?.stack === 'string') out.stack = e.stack;
  return out;
}

/**
 * The default report: one JSON line at level `error` on stderr (the console where there is none).
 */
export function logUnexpectedToStderr(info: UnexpectedError): void {
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level: 'error',
    event: 'error',
    where: info.op,
    requestId: info.requestId,
    error: describeError(info.error),
  });
  const stderr = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process
    ?.stderr;
  if (stderr) stderr.write(line + '\n');
  else console.error(line);
}
