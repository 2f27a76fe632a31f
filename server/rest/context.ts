/** What every REST endpoint receives: the engine, the authenticated actor, the request and its parsed URL. */
import type { Actor } from '../../shared/protocol.js';
import type { SyncEngine } from '../engine/types.js';

/** The per-request context handed to an endpoint. */
export interface RestContext {
  engine: SyncEngine;
  actor: Actor;
  req: Request;
  url: URL;
  /** The client's schema version (`X-Sync-Schema-Version` or `?schemaVersion=`), already accepted by the engine; endpoints pass it on. */
  schemaVersion?: number;
}
