/** REST answers from the gateway's one error table (`server/gateway/errors.ts`), by the REST face's names. */
import { SyncError, type SyncIssue } from '../../shared/errors.js';
import {
  answerError,
  answerResponse,
  errorAnswer,
  jsonResponse,
  statusOf,
  type ErrorBody,
  type GatewayErrorCode,
} from '../gateway/errors.js';
import { logUnexpectedToStderr } from '../gateway/request-id.js';

export { jsonResponse, statusOf };

/** Error codes of the REST face: the protocol's codes plus 405 and 414. @deprecated alias of `GatewayErrorCode` */
export type RestErrorCode = GatewayErrorCode;

/** The JSON body of every REST error. @deprecated alias of the gateway's `ErrorBody` */
export type RestErrorBody = ErrorBody;

/** An error response for a code, message and field issues. */
export function errorResponse(
  code: RestErrorCode,
  message: string,
  issues: SyncIssue[] = [],
  headers: Record<string, string> = {},
): Response {
  return answerResponse(errorAnswer(code, message, issues, headers));
}

/**
 * Turns anything thrown while serving a request into a response (the gateway's table). A
 * `SyncError` keeps its code; anything else is 500 `INTERNAL` with a request id, reported once to
 * `onUnexpected` (or stderr).
 */
export function toErrorResponse(
  error: unknown,
  onUnexpected?: (error: unknown, requestId: string) => void,
  op = 'request',
): Response {
  const report = onUnexpected
    ? (info: { error: unknown; requestId: string }) => onUnexpected(info.error, info.requestId)
    : logUnexpectedToStderr;
  return answerResponse(answerError(error, op, report));
}

/** A BAD_REQUEST naming one query parameter. */
export function badParam(name: string, message: string): SyncError {
  return new SyncError('BAD_REQUEST', `${name}: ${message}`, [{ path: name, message }]);
}
