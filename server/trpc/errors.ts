/** SyncError → TRPCError in one table, and the error formatter that puts sync codes and issues in `error.data.sync`. */
import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { SyncError, type SyncErrorCode, type SyncIssue } from '../../shared/errors.js';
import { requestIdOf } from '../unexpected.js';

/** The TRPCError code for each sync error code (the REST face uses `ERROR_STATUS` for the same codes). */
export const TRPC_CODE: Readonly<Record<SyncErrorCode, TRPC_ERROR_CODE_KEY>> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  RESYNC_REQUIRED: 'CONFLICT',
  CLIENT_ID_CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  // tRPC has no 426; 412 says "a precondition of yours (the schema version) fails". Clients read data.sync.code.
  UPGRADE_REQUIRED: 'PRECONDITION_FAILED',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

/** Turns a SyncError into a TRPCError with the same message (the SyncError stays as `cause`); other errors pass through. */
export function toTRPCError(error: unknown): unknown {
  if (!SyncError.is(error)) return error;
  return new TRPCError({ code: TRPC_CODE[error.code], message: error.message, cause: error });
}

/** What `syncErrorFormatter` adds to `error.data.sync` when the error came from the sync kit. */
export interface SyncErrorData {
  code: SyncErrorCode;
  issues: SyncIssue[];
  /** For `TOO_MANY_REQUESTS`: milliseconds until a retry can succeed. */
  retryAfterMs?: number;
  /** For `UPGRADE_REQUIRED`: the oldest schema version the server accepts. */
  minSchemaVersion?: number;
  /** For `INTERNAL`: the id of this failure in the server's error log. */
  requestId?: string;
  /** For `CLIENT_ID_CONFLICT`: the push's mutation ids already recorded as these same changes. */
  recorded?: number[];
}

/** Finds the SyncError behind a TRPCError (its cause), if any. */
export function syncErrorOf(error: unknown): SyncError | null {
  if (SyncError.is(error)) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return SyncError.is(cause) ? cause : null;
}

function syncData(error: SyncError): SyncErrorData {
  const data: SyncErrorData = { code: error.code, issues: error.issues };
  if (error.retryAfterMs !== undefined) data.retryAfterMs = error.retryAfterMs;
  if (error.minSchemaVersion !== undefined) data.minSchemaVersion = error.minSchemaVersion;
  if (error.recorded !== undefined) data.recorded = error.recorded;
  return data;
}

/**
 * A tRPC `errorFormatter` that adds `data.sync = { code, issues }` (or `null`) to every error
 * shape, so clients see the sync error code and the list of field issues. An unexpected
 * failure (`INTERNAL_SERVER_ERROR`) gets a generic message and `data.sync.requestId`, the id a
 * server `onError` hook can log it under (`requestIdOf(error)` gives the same id).
 *
 * @example
 * const t = initTRPC.context<Ctx>().create({ transformer: superjson, errorFormatter: syncErrorFormatter });
 * // client: err.data?.sync?.issues → [{ path: 'changes.0.data.title', message: '…' }]
 */
export function syncErrorFormatter<TShape extends { data: object }>(opts: {
  shape: TShape;
  error: TRPCError;
}): TShape & { data: TShape['data'] & { sync: SyncErrorData | null } } {
  const sync = syncErrorOf(opts.error);
  if (opts.error.code === 'INTERNAL_SERVER_ERROR' && (!sync || sync.code === 'INTERNAL')) {
    // An unexpected failure: no internals to the client, only the id it is logged under.
    const requestId = requestIdOf(opts.error);
    const message = `internal server error (request id ${requestId})`;
    return {
      ...opts.shape,
      message,
      data: { ...opts.shape.data, sync: { code: 'INTERNAL', issues: [], requestId } },
    };
  }
  return {
    ...opts.shape,
    data: { ...opts.shape.data, sync: sync ? syncData(sync) : null },
  };
}
