/**
 * The one `onError` shape of the Fetch-API faces, which also keeps their older signature working.
 */
import type { UnexpectedError } from './request-id.js';

/**
 * `onError` of the REST and compat handlers: the one shape `(info) => void`, `info` being
 * `{ requestId, op, error }`; the request it is about comes second. A function declaring three
 * parameters is taken as the older `(error, req, requestId)` form and called that way.
 */
export type RequestOnError = (info: UnexpectedError, req: Request, requestId: string) => void;

/** The report for one request, calling `onError` in the shape it was written for. */
export function reportFor(onError: RequestOnError, req: Request): (info: UnexpectedError) => void {
  if (onError.length >= 3) {
    const legacy = onError as unknown as (error: unknown, req: Request, requestId: string) => void;
    return (info) => legacy(info.error, req, info.requestId);
  }
  return (info) => onError(info, req, info.requestId);
}
