/**
 * `createSyncGateway()`: the face-neutral core every face calls, the way every tRPC adapter calls
 * one `resolveResponse()`. It owns the token → actor rule, the schema-version gate, the transport
 * limits and live caps, and the one error table that attaches request ids and reports each
 * unexpected failure once. Faces only translate their transport to and from it.
 */
import type { Actor } from '../../shared/protocol.js';
import type { Authenticate } from '../auth/authenticate.js';
import type { SyncEngine } from '../engine/types.js';
import { authenticateToken, optionalActor } from './auth.js';
import { answerError, errorAnswer, type ErrorAnswer } from './errors.js';
import { createLiveConnections, type LiveConnections } from './live-caps.js';
import { resolveTransportLimits, type TransportLimits } from './limits.js';
import { logUnexpectedToStderr, reportOnce, type OnUnexpectedError } from './request-id.js';

/** Options of `createSyncGateway`. */
export interface SyncGatewayOptions {
  /** The engine every face calls. */
  engine: SyncEngine<any>;
  /** Turns the caller's token into an actor; `null` (or a throw) refuses with 401. */
  authenticate: Authenticate;
  /**
   * Told of every unexpected failure once, with the request id the client was answered. @default
   * one JSON line on stderr
   */
  onError?: OnUnexpectedError;
  /**
   * Transport limits (body, URL, query, live caps, slow-consumer bounds). Each one not given falls
   * back to the value the engine was given under its old (deprecated) option name, then to
   * `DEFAULT_TRANSPORT_LIMITS`.
   */
  limits?: Partial<TransportLimits>;
  /** Names the factory in option errors. @default 'createSyncGateway' */
  who?: string;
}

/** The core the faces call; one per server, so its faces share live caps and reporting. */
export interface SyncGateway {
  readonly engine: SyncEngine<any>;
  /** The resolved transport limits. */
  readonly limits: Readonly<TransportLimits>;
  /** Live-connection caps, counted across every face of this gateway. */
  readonly live: LiveConnections;
  /** The (wrapped) hook, for faces that hand it on. */
  readonly authenticate: Authenticate;
  /** The token → actor rule: an actor, or a thrown `SyncError` (401, or the hook's own code). */
  actor(token: string | null): Promise<Actor>;
  /** Like `actor`, but a 401 refusal answers null (a context that also serves public calls). */
  optionalActor(token: string | null): Promise<Actor | null>;
  /**
   * The schema-version gate: throws UPGRADE_REQUIRED (426) for a client older than the engine
   * accepts.
   */
  checkSchemaVersion(version: unknown): void;
  /** The one error table: status, body and headers; an unexpected failure is reported once. */
  answer(error: unknown, op: string): ErrorAnswer;
  /**
   * Reports an unexpected failure once (deduplicated per error object); returns its request id.
   * `shown` is the error the report names (default `error`, e.g. a TRPCError's cause).
   */
  report(op: string, error: unknown, shown?: unknown): string;
  /** The `onError` hook itself (reports it once per call). */
  readonly onError: OnUnexpectedError;
  /**
   * Checks a request target against `maxUrlLength` (414) and `maxQueryParams` (400) before
   * anything else reads it; null when it is within both.
   */
  checkTarget(target: string): ErrorAnswer | null;
}

/** A 414 for a URL over `maxUrlLength`, as an answer (URI_TOO_LONG is no protocol error code). */
export function uriTooLong(length: number, limit: number): ErrorAnswer {
  const message = `request URL is ${length} characters, over ${limit} (limits.maxUrlLength)`;
  return errorAnswer(
    'URI_TOO_LONG',
    message,
    [{ path: 'url', message: `at most ${limit} characters` }],
    {
      connection: 'close',
    },
  );
}

/**
 * Creates the gateway. Faces built without one create their own from the same options; give one
 * gateway to several faces (as `createSyncHttpServer` does) so they share live caps.
 *
 * @example
 * const gateway = createSyncGateway({ engine, authenticate: jwtAuthenticator({ secret }), onError:
 * log });
 * const rest = createRestHandler({ gateway });
 */
export function createSyncGateway(options: SyncGatewayOptions): SyncGateway {
  const { engine } = options;
  const onError = options.onError ?? logUnexpectedToStderr;
  const limits = resolveTransportLimits(
    options.limits,
    engine.transportLimits,
    options.who ?? 'createSyncGateway',
  );
  const authenticate = options.authenticate;
  const live = createLiveConnections(() => limits);
  return {
    engine,
    limits,
    live,
    authenticate,
    onError,
    actor: (token) => authenticateToken(authenticate, token, onError),
    optionalActor: (token) => optionalActor(authenticate, token, onError),
    checkSchemaVersion: (version) => engine.checkSchemaVersion(version),
    answer: (error, op) => answerError(error, op, onError),
    report: (op, error, shown) => reportOnce(onError, op, error, shown ?? error),
    checkTarget(target) {
      if (target.length > limits.maxUrlLength)
        return uriTooLong(target.length, limits.maxUrlLength);
      const q = target.indexOf('?');
      if (q === -1) return null;
      // Counted on the raw text (every "&" starts one more), so 100,000 parameters are never
      // parsed.
      let count = 0;
      for (const part of target.slice(q + 1).split('&', limits.maxQueryParams + 1))
        if (part !== '') count++;
      if (count <= limits.maxQueryParams) return null;
      const message = `more than ${limits.maxQueryParams} query parameters (limits.maxQueryParams)`;
      return errorAnswer('BAD_REQUEST', `query: ${message}`, [{ path: 'query', message }]);
    },
  };
}
