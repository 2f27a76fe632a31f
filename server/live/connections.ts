/** Live-connection caps: connections per actor and subscriptions per connection, shared by every face of one engine. */
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import type { SyncEngine } from '../engine/types.js';

/** Counts the live connections of one engine's actors (on this process). */
export interface LiveConnections {
  /**
   * Counts one more subscription on `connection` (any object naming it: the WebSocket, or a fresh
   * object for an SSE response) for `actor`; returns its release (idempotent). Throws
   * `TOO_MANY_REQUESTS` past `limits.maxLiveConnectionsPerActor` or `limits.maxSubscriptionsPerConnection`.
   */
  acquire(actor: Actor, connection: object): () => void;
  /** Live connections of `actor` now. */
  connectionsOf(actor: Actor): number;
}

const registries = new WeakMap<object, LiveConnections>();

/** The one registry of `engine`, so SSE, raw WebSocket and tRPC count against the same caps. */
export function liveConnections(engine: SyncEngine<any>): LiveConnections {
  let registry = registries.get(engine);
  if (!registry) {
    registry = createLiveConnections(() => engine.limits);
    registries.set(engine, registry);
  }
  return registry;
}

const keyOf = (actor: Actor) => `${actor.scopeId} ${actor.userId}`;

function createLiveConnections(limits: () => { maxLiveConnectionsPerActor: number; maxSubscriptionsPerConnection: number }): LiveConnections {
  /** actor key → connection → its live subscriptions; a connection with none is not live and not counted. */
  const actors = new Map<string, Map<object, number>>();
  return {
    acquire(actor, connection) {
      const { maxLiveConnectionsPerActor, maxSubscriptionsPerConnection } = limits();
      const key = keyOf(actor);
      const connections = actors.get(key) ?? new Map<object, number>();
      const subscriptions = connections.get(connection) ?? 0;
      if (subscriptions === 0 && connections.size >= maxLiveConnectionsPerActor) {
        throw new SyncError('TOO_MANY_REQUESTS', `too many live connections: this user already holds ${connections.size} (limits.maxLiveConnectionsPerActor = ${maxLiveConnectionsPerActor}); close one first`);
      }
      if (subscriptions >= maxSubscriptionsPerConnection) {
        throw new SyncError('TOO_MANY_REQUESTS', `too many subscriptions on this connection: ${subscriptions} already (limits.maxSubscriptionsPerConnection = ${maxSubscriptionsPerConnection})`);
      }
      connections.set(connection, subscriptions + 1);
      actors.set(key, connections);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (connections.get(connection) ?? 1) - 1;
        if (left > 0) connections.set(connection, left);
        else connections.delete(connection);
        if (connections.size === 0 && actors.get(key) === connections) actors.delete(key);
      };
    },
    connectionsOf: (actor) => actors.get(keyOf(actor))?.size ?? 0,
  };
}
