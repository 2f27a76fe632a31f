/**
 * Live-connection caps of one gateway: connections per actor and subscriptions per connection,
 * shared by its faces.
 */
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';

/** Counts the live connections of one gateway's actors (on this process). */
export interface LiveConnections {
  /**
   * Counts one more subscription on `connection` (any object naming it: the WebSocket, or a fresh
   * object for an SSE response) for `actor`; returns its release (idempotent). Throws
   * `TOO_MANY_REQUESTS` past `maxLiveConnectionsPerActor` or `maxSubscriptionsPerConnection`.
   */
  acquire(actor: Actor, connection: object): () => void;
  /** Live connections of `actor` now. */
  connectionsOf(actor: Actor): number;
}

/** The two caps, read on every acquire (so a gateway's limits are the only source). */
export interface LiveCapLimits {
  maxLiveConnectionsPerActor: number;
  maxSubscriptionsPerConnection: number;
}

const keyOf = (actor: Actor) => `${actor.scopeId} ${actor.userId}`;

/** A fresh, empty registry; the gateway holds one, so every face it serves counts against it. */
export function createLiveConnections(limits: () => LiveCapLimits): LiveConnections {
  /**
   * actor key → connection → its live subscriptions; a connection with none is not live and not
   * counted.
   */
  const actors = new Map<string, Map<object, number>>();
  return {
    acquire(actor, connection) {
      const { maxLiveConnectionsPerActor: perActor, maxSubscriptionsPerConnection: perConnection } =
        limits();
      const key = keyOf(actor);
      const connections = actors.get(key) ?? new Map<object, number>();
      const subscriptions = connections.get(connection) ?? 0;
      if (subscriptions === 0 && connections.size >= perActor) {
        throw new SyncError(
          'TOO_MANY_REQUESTS',
          `too many live connections: this user already holds ${connections.size} ` +
            `(limits.maxLiveConnectionsPerActor = ${perActor}); close one first`,
        );
      }
      if (subscriptions >= perConnection) {
        throw new SyncError(
          'TOO_MANY_REQUESTS',
          `too many subscriptions on this connection: ${subscriptions} already ` +
            `(limits.maxSubscriptionsPerConnection = ${perConnection})`,
        );
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
