/** The one `onError` shape, and the adapter that keeps the REST and compat faces' older signature working. */
import type { OnUnexpectedError } from './request-id.js';

/**
 * The signature the REST and compat faces took before the gateway: `(error, req, requestId)`.
 * @deprecated give `onError: (info: UnexpectedError) => void`, the one shape of every face
 */
export type LegacyRequestOnError = (error: unknown, req: Request, requestId: string) => void;

/** Either `onError` shape a Fetch-API face accepts. */
export type RequestOnError = OnUnexpectedError | LegacyRequestOnError;

/**
 * The report for one request in the one shape. A function declaring two or more parameters is
 * the older `(error, req, requestId)` form and is told `req`.
 */
export function reportFor(onError: RequestOnError, req: Request): OnUnexpectedError {
  if (onError.length < 2) return onError as OnUnexpectedError;
  return (info) => (onError as LegacyRequestOnError)(info.error, req, info.requestId);
}
