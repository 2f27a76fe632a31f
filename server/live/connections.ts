/**
 * Live-connection caps. Each gateway holds its own registry (`server/gateway/live-caps.ts`), so
 * the faces of one server count against the same caps. `liveConnections(engine)` is the fallback
 * for `openLiveStream` callers that give no gateway: one default gateway per engine.
 */
import type { SyncEngine } from '../engine/types.js';
import { createSyncGateway, type SyncGateway } from '../gateway/gateway.js';
import type { LiveConnections } from '../gateway/live-caps.js';

export type { LiveConnections } from '../gateway/live-caps.js';

const defaults = new WeakMap<object, SyncGateway>();

/**
 * The gateway of a live stream opened without one: created once per engine with the engine's
 * forwarded limits and no authentication (the caller already has the actor).
 * @deprecated give `openLiveStream` the face's `gateway`
 */
export function defaultGateway(engine: SyncEngine<any>): SyncGateway {
  let gateway = defaults.get(engine);
  if (!gateway) {
    gateway = createSyncGateway({ engine, authenticate: () => null, who: 'openLiveStream' });
    defaults.set(engine, gateway);
  }
  return gateway;
}

/** The caps of `engine`'s default gateway. @deprecated use `gateway.live` */
export function liveConnections(engine: SyncEngine<any>): LiveConnections {
  return defaultGateway(engine).live;
}
