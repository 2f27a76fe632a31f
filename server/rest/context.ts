/** What every REST endpoint receives: the engine, the authenticated actor, the request and its parsed URL. */
import type { Actor } from '../../shared/protocol.js';
import type { SyncEngine } from '../engine/types.js';
import type { SyncGateway } from '../gateway/gateway.js';
import type { OnUnexpectedError } from '../gateway/request-id.js';

/** The per-request context handed to an endpoint. */
export interface RestContext {
  engine: SyncEngine;
  /** The gateway the face runs over: transport limits, live caps, the error table. */
  gateway: SyncGateway;
  /** Where this request's unexpected failures are reported (once), also after the answer started (SSE). */
  report: OnUnexpectedError;
  actor: Actor;
  req: Request;
  url: URL;
  /** The client's schema version (`X-Sync-Schema-Version` or `?schemaVersion=`), already accepted by the engine; endpoints pass it on. */
  schemaVersion?: number;
}
