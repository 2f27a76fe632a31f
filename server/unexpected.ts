/**
 * Unexpected (500) failures on a Node response. Request ids, the report shape and the default log
 * line live in the gateway (`server/gateway/request-id.ts`); they are re-exported here by their
 * old names.
 */
import type { ServerResponse } from 'node:http';
import { answerError } from './gateway/errors.js';
import { logUnexpectedToStderr, type OnUnexpectedError } from './gateway/request-id.js';

export {
  describeError,
  logUnexpectedToStderr,
  newRequestId,
  reportOnce,
  requestIdOf,
  type OnUnexpectedError,
  type UnexpectedError,
} from './gateway/request-id.js';

/**
 * Answers an unexpected failure on a Node response: reports it once (`op`, a request id), then a
 * JSON 500 `{ error: { code: "INTERNAL", message, issues: [], requestId } }` with `X-Request-Id`,
 * never the error's own message; when the answer had already started, the connection is dropped.
 */
export function answerUnexpected(
  res: ServerResponse,
  op: string,
  error: unknown,
  report: OnUnexpectedError = logUnexpectedToStderr,
): void {
  const answer = answerError(error, op, report);
  if (res.headersSent) return void res.destroy();
  res
    .writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...answer.headers,
    })
    .end(JSON.stringify(answer.body));
}
