/**
 * The one error table of every face: any thrown value → status, body, headers (and WebSocket close
 * code). A `SyncError` keeps its code; anything else is an unexpected failure, answered `INTERNAL`
 * with a request id and reported once. No `node:` import: the Fetch-API REST face uses it as is.
 */
import {
  ERROR_STATUS,
  SyncError,
  type ErrorAnswerCode,
  type ErrorBody,
  type SyncIssue,
} from '../../shared/errors.js';
import { reportOnce, type OnUnexpectedError } from './request-id.js';

/** Error codes a face answers (see `ErrorAnswerCode`). */
export type GatewayErrorCode = ErrorAnswerCode;
export type { ErrorBody };

/** A face-neutral answer to an error: each face writes it its own way. */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** Set for an unexpected failure: the id it was reported under. */
  requestId?: string;
}

/** HTTP status of a code (the protocol's table, plus 405 and 414). */
export function statusOf(code: GatewayErrorCode): number {
  return code === 'METHOD_NOT_ALLOWED' ? 405 : code === 'URI_TOO_LONG' ? 414 : ERROR_STATUS[code];
}

/**
 * Close code of a refused WebSocket subscription: 4000 + the HTTP status (4401, 4403, 4429, 4500…).
 */
export function closeCodeFor(status: number): number {
  return 4000 + status;
}

/** An answer for a code, message and field issues. */
export function errorAnswer(
  code: GatewayErrorCode,
  message: string,
  issues: SyncIssue[] = [],
  headers: Record<string, string> = {},
): ErrorAnswer {
  return { status: statusOf(code), body: { error: { code, message, issues } }, headers };
}

/**
 * The headers a `SyncError` carries to HTTP: `WWW-Authenticate`, `Retry-After`, and the schema
 * floor.
 */
function headersOf(error: SyncError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer';
  if (error.code === 'PAYLOAD_TOO_LARGE') headers.connection = 'close';
  // Retry-After is in whole seconds (RFC 9110), rounded up so a client waiting that long succeeds.
  if (error.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  }
  if (error.minSchemaVersion !== undefined) {
    headers['x-sync-min-schema-version'] = String(error.minSchemaVersion);
  }
  return headers;
}

/**
 * Turns anything thrown while serving `op` into an answer. A `SyncError` keeps its code, status
 * and headers; anything else is reported once to `report` and answered 500 `INTERNAL` with a
 * request id (body and `X-Request-Id`), never the error's own message.
 */
export function answerError(error: unknown, op: string, report: OnUnexpectedError): ErrorAnswer {
  if (SyncError.is(error)) {
    const answer = errorAnswer(error.code, error.message, error.issues, headersOf(error));
    if (error.recorded !== undefined) answer.body.error.recorded = error.recorded;
    return answer;
  }
  const requestId = reportOnce(report, op, error);
  const message = `internal server error (request id ${requestId})`;
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message, issues: [], requestId } },
    headers: { 'x-request-id': requestId },
    requestId,
  };
}

/** A JSON `Response` (Fetch API) with the given status and extra headers. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
  });
}

/**
 * An `ErrorAnswer` as a Fetch-API `Response`; `extra` adds fields beside `error` (FastAPI's
 * `detail`).
 */
export function answerResponse(answer: ErrorAnswer, extra?: (body: ErrorBody) => object): Response {
  return jsonResponse(
    answer.status,
    extra ? { ...extra(answer.body), ...answer.body } : answer.body,
    answer.headers,
  );
}
