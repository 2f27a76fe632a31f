/** The one error type of the sync protocol: a code from a closed list, a message and field issues. */

/** Request-level error codes, each with its HTTP status (faces map them in one place). */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RESYNC_REQUIRED: 409,
  /**
   * The client id's ledger holds other changes under this push's mutation ids (a device copied
   * from another, e.g. a restored backup), or belongs to another user. Nothing of the push was
   * applied. The client takes a new client id, renumbers its outbox under it and re-sends; the
   * error's `recorded` lists the push's mutation ids already recorded as these very changes.
   */
  CLIENT_ID_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  /** The client's schema version is older than the server accepts (`minSchemaVersion`): update the app; retrying cannot help. */
  UPGRADE_REQUIRED: 426,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type SyncErrorCode = keyof typeof ERROR_STATUS;

/** Codes a single change can be rejected with (`status: "rejected"`), the batch still commits. */
export const REJECTION_CODES = [
  'DELETE_REJECTED',
  'FORBIDDEN',
  'RESOLVER_REJECTED',
  'INVALID_DOCUMENT',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** One problem with one field of the request, `path` dotted (`changes.0.data.title`). */
export interface SyncIssue {
  path: string;
  message: string;
}

const BRAND = Symbol.for('trpc-offline-sync.SyncError');

/**
 * Error thrown by the engine and the stores for a request that cannot be served.
 *
 * @example
 * throw new SyncError('BAD_REQUEST', 'unknown collection "users"', [{ path: 'changes.0.collection', message: 'unknown collection' }]);
 */
export class SyncError extends Error {
  readonly [BRAND] = true;
  readonly code: SyncErrorCode;
  readonly issues: SyncIssue[];
  /** For `TOO_MANY_REQUESTS`: milliseconds until a retry can succeed (REST sends it as `Retry-After`). */
  readonly retryAfterMs?: number;
  /** For `UPGRADE_REQUIRED`: the oldest schema version the server accepts (REST sends it as `X-Sync-Min-Schema-Version`). */
  readonly minSchemaVersion?: number;
  /**
   * For `CLIENT_ID_CONFLICT`: mutation ids of the push that the ledger already holds as these
   * same changes (applied once; the client settles them and re-sends only the others).
   */
  readonly recorded?: number[];

  constructor(
    code: SyncErrorCode,
    message: string,
    issues: SyncIssue[] = [],
    options?: {
      cause?: unknown;
      retryAfterMs?: number;
      minSchemaVersion?: number;
      recorded?: number[];
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncError';
    this.code = code;
    this.issues = issues;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options?.minSchemaVersion !== undefined) this.minSchemaVersion = options.minSchemaVersion;
    if (options?.recorded !== undefined) this.recorded = options.recorded;
  }

  /** Works across two copies of this package in one bundle, unlike `instanceof`. */
  static is(value: unknown): value is SyncError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The wire body: `{ error: { code, message, issues } }`. */
  toJSON(): ErrorBody {
    const error: ErrorBody['error'] = {
      code: this.code,
      message: this.message,
      issues: this.issues,
    };
    if (this.recorded !== undefined) error.recorded = this.recorded;
    return { error };
  }
}

/**
 * Codes an error answer may carry: the protocol's, plus 405 (known path, wrong method) and 414
 * (URL too long), which only the HTTP faces answer.
 */
export type ErrorAnswerCode = SyncErrorCode | 'METHOD_NOT_ALLOWED' | 'URI_TOO_LONG';

/**
 * The JSON body of every error answer on every HTTP face (the compat face adds FastAPI's `detail`).
 * The one definition: the gateway builds it, `SyncError.toJSON()` gives it.
 */
export interface ErrorBody {
  error: {
    code: ErrorAnswerCode;
    message: string;
    issues: SyncIssue[];
    /** On `INTERNAL`: the id the failure was reported under (also `X-Request-Id`). */
    requestId?: string;
    /** On `CLIENT_ID_CONFLICT`: the push's mutation ids already recorded as these same changes. */
    recorded?: number[];
  };
}

/** Turns zod issues into protocol issues with dotted paths, prefixed by `prefix`. */
export function issuesFromZod(
  zodIssues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix: ReadonlyArray<PropertyKey> = [],
): SyncIssue[] {
  return zodIssues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join('.'),
    message: issue.message,
  }));
}

/** A BAD_REQUEST whose message names the first offending field. */
export function badRequest(issues: SyncIssue[], what = 'invalid request'): SyncError {
  const first = issues[0];
  const message = first ? `${what}: ${first.path || '(root)'}: ${first.message}` : what;
  return new SyncError('BAD_REQUEST', message, issues);
}
