/**
 * Errors of the fastapi-offline-sync face: the gateway's answer, with FastAPI's `detail` beside
 * `error`.
 */
import { answerError, answerResponse, type ErrorBody } from '../../gateway/errors.js';
import { logUnexpectedToStderr } from '../../gateway/request-id.js';

/** FastAPI's `detail` (a string) for an error body: clients written for FastAPI read it. */
export function withDetail(body: ErrorBody): { detail: string } {
  return { detail: body.error.message };
}

/**
 * Turns anything thrown into a response: the main face's status, headers and `error` object (with
 * its request id on a 500), plus `detail`. @deprecated the handler answers through the gateway
 */
export async function compatErrorResponse(
  error: unknown,
  onUnexpected?: (error: unknown, requestId: string) => void,
): Promise<Response> {
  const report = onUnexpected
    ? (info: { error: unknown; requestId: string }) => onUnexpected(info.error, info.requestId)
    : logUnexpectedToStderr;
  return answerResponse(answerError(error, 'compat request', report), withDetail);
}
