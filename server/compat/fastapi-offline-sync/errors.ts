/** Errors of the fastapi-offline-sync face: our status table, with FastAPI's `detail` beside our `error` body. */
import { SyncError } from '../../../shared/errors.js';
import { jsonResponse, statusOf, toErrorResponse } from '../../rest/errors.js';

/**
 * Turns anything thrown into a response. Clients written for FastAPI read `detail` (a string);
 * `error` is the same `{ code, message, issues }` object as on the main REST face.
 */
export function compatErrorResponse(error: unknown, onUnexpected?: (error: unknown) => void): Response {
  if (!SyncError.is(error)) return withDetail(toErrorResponse(error, onUnexpected), 'internal server error');
  const base = toErrorResponse(error);
  const headers: Record<string, string> = {};
  base.headers.forEach((v, k) => (headers[k] = v));
  return jsonResponse(statusOf(error.code), { detail: error.message, ...error.toJSON() }, headers);
}

function withDetail(res: Response, detail: string): Response {
  return jsonResponse(res.status, { detail, error: { code: 'INTERNAL', message: detail, issues: [] } });
}
