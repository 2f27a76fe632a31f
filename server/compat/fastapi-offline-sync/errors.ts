/** Errors of the fastapi-offline-sync face: the main face's status, headers and `error` body, with FastAPI's `detail` beside it. */
import { toErrorResponse } from '../../rest/errors.js';

/**
 * Turns anything thrown into a response. Clients written for FastAPI read `detail` (a string);
 * `error` is the same `{ code, message, issues }` object as on the main REST face (with its
 * request id on a 500), and the status and headers (`Retry-After`, `WWW-Authenticate`) are its own.
 */
export async function compatErrorResponse(error: unknown, onUnexpected?: (error: unknown, requestId: string) => void): Promise<Response> {
  const base = toErrorResponse(error, onUnexpected);
  const body = (await base.json()) as { error: { message: string } };
  return new Response(JSON.stringify({ detail: body.error.message, ...body }), { status: base.status, headers: base.headers });
}
