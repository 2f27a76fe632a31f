/** Unexpected (500) failures: one request id per failure, shared by the answer and the error log line. */
import type { ServerResponse } from 'node:http';

const ID = Symbol.for('trpc-offline-sync.requestId');

/** What a face reports about an unexpected failure. */
export interface UnexpectedError {
  /** Sent to the client (`error.requestId`, `X-Request-Id`, tRPC `data.sync.requestId`) and logged. */
  requestId: string;
  /** The operation that failed, e.g. `POST /sync/push`, `trpc sync.push`, `ws /sync/stream`. */
  op: string;
  error: unknown;
}

/** A new request id: 16 hex digits, unique enough to grep for in logs. */
export function newRequestId(): string {
  // Web Crypto (global on Node 20, browsers, Deno, Bun, workers): no `node:` import on the REST path.
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The request id of an error object, assigned on first use, so every layer that sees the same
 * failure (the log hook, the error formatter) names the same id. Non-objects get a fresh id.
 */
export function requestIdOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return newRequestId();
  const holder = error as Record<symbol, unknown>;
  const cause = (error as { cause?: unknown }).cause;
  const existing = holder[ID] ?? (typeof cause === 'object' && cause !== null ? (cause as Record<symbol, unknown>)[ID] : undefined);
  if (typeof existing === 'string') return existing;
  const id = newRequestId();
  try {
    Object.defineProperty(error, ID, { value: id, enumerable: false });
  } catch {
    // a frozen error: the id is not remembered, still logged and answered once
  }
  return id;
}

/** The error, its message and its stack as log fields (never the request's data). */
export function describeError(error: unknown): { message: string; name?: string; code?: string; stack?: string } {
  const e = error as { message?: unknown; name?: unknown; code?: unknown; stack?: unknown } | null;
  const out: { message: string; name?: string; code?: string; stack?: string } = {
    message: typeof e?.message === 'string' ? e.message : String(error),
  };
  if (typeof e?.name === 'string') out.name = e.name;
  if (typeof e?.code === 'string') out.code = e.code;
  if (typeof e?.stack === 'string') out.stack = e.stack;
  return out;
}

/** The default report: one JSON line at level `error` on stderr. */
export function logUnexpectedToStderr(info: UnexpectedError): void {
  process.stderr.write(
    JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'error', where: info.op, requestId: info.requestId, error: describeError(info.error) }) + '\n',
  );
}

/**
 * Answers an unexpected failure on a Node response: reports it (`op`, a request id), then a JSON 500
 * `{ error: { code: "INTERNAL", message, issues: [], requestId } }` with `X-Request-Id`, never the
 * error's own message; when the answer had already started, the connection is dropped instead.
 */
export function answerUnexpected(res: ServerResponse, op: string, error: unknown, report: (info: UnexpectedError) => void = logUnexpectedToStderr): void {
  const requestId = requestIdOf(error);
  try {
    report({ requestId, op, error });
  } catch {
    // a failing log hook does not change the answer
  }
  if (res.headersSent) return void res.destroy();
  const body = { error: { code: 'INTERNAL', message: `internal server error (request id ${requestId})`, issues: [], requestId } };
  res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-request-id': requestId }).end(JSON.stringify(body));
}
