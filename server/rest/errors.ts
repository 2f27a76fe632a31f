/** Maps failures to REST answers: a status from the shared table and the `{ error: { code, message, issues } }` body. */
import { ERROR_STATUS, SyncError, type SyncErrorCode, type SyncIssue } from '../../shared/errors.js';
import { requestIdOf } from '../unexpected.js';

/** Error codes of the REST face: the protocol's codes plus 405 for a known path with the wrong method and 414 for a URL over `limits.maxUrlLength`. */
export type RestErrorCode = SyncErrorCode | 'METHOD_NOT_ALLOWED' | 'URI_TOO_LONG';

/** The JSON body of every REST error. */
export interface RestErrorBody {
  error: { code: RestErrorCode; message: string; issues: SyncIssue[]; requestId?: string; recorded?: number[] };
}

/** HTTP status of a REST error code (the protocol's table, plus 405 and 414). */
export function statusOf(code: RestErrorCode): number {
  return code === 'METHOD_NOT_ALLOWED' ? 405 : code === 'URI_TOO_LONG' ? 414 : ERROR_STATUS[code];
}

/** A JSON response with the given status and extra headers. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/** An error response for a code, message and field issues. */
export function errorResponse(
  code: RestErrorCode,
  message: string,
  issues: SyncIssue[] = [],
  headers: Record<string, string> = {},
): Response {
  const body: RestErrorBody = { error: { code, message, issues } };
  return jsonResponse(statusOf(code), body, headers);
}

/**
 * Turns anything thrown while serving a request into a response. A `SyncError` keeps its code;
 * anything else is an unexpected failure: 500 with the usual body plus `requestId` (also in
 * `X-Request-Id`), no stack or internals; `onUnexpected` gets the same id for the log.
 */
export function toErrorResponse(error: unknown, onUnexpected?: (error: unknown, requestId: string) => void): Response {
  if (SyncError.is(error)) {
    const extra: Record<string, string> =
      error.code === 'UNAUTHORIZED' ? { 'www-authenticate': 'Bearer' } : error.code === 'PAYLOAD_TOO_LARGE' ? { connection: 'close' } : {};
    // Retry-After is in whole seconds (RFC 9110), rounded up so a client waiting that long succeeds.
    if (error.retryAfterMs !== undefined) extra['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    if (error.minSchemaVersion !== undefined) extra['x-sync-min-schema-version'] = String(error.minSchemaVersion);
    if (error.recorded !== undefined) return jsonResponse(statusOf(error.code), error.toJSON(), extra);
    return errorResponse(error.code, error.message, error.issues, extra);
  }
  const requestId = requestIdOf(error);
  onUnexpected?.(error, requestId);
  const body: RestErrorBody = { error: { code: 'INTERNAL', message: `internal server error (request id ${requestId})`, issues: [], requestId } };
  return jsonResponse(500, body, { 'x-request-id': requestId });
}

/** A BAD_REQUEST naming one query parameter. */
export function badParam(name: string, message: string): SyncError {
  return new SyncError('BAD_REQUEST', `${name}: ${message}`, [{ path: name, message }]);
}
