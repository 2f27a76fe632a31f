/**
 * Which gateway a tRPC call runs under: the one the server marked its context with, so all its
 * faces share caps.
 */
import type { SyncGateway } from '../gateway/gateway.js';

const GATEWAY = Symbol.for('trpc-offline-sync.gateway');

/**
 * Marks a tRPC context with the gateway of the server that built it (`createSyncHttpServer` does),
 * so `sync.stream` counts against that gateway's live caps and reports through its `onError`,
 * even in a router the app built itself. Returns `ctx`. The mark is an enumerable symbol, so
 * middleware that spreads the context keeps it.
 */
export function withGateway<T>(ctx: T, gateway: SyncGateway): T {
  if (ctx && typeof ctx === 'object' && Object.isExtensible(ctx)) {
    try {
      (ctx as Record<symbol, unknown>)[GATEWAY] = gateway;
    } catch {
      // a context that refuses the mark runs under the router's own gateway
    }
  }
  return ctx;
}

/** The gateway `withGateway` marked `ctx` with, or null. */
export function gatewayOf(ctx: unknown): SyncGateway | null {
  const g = ctx && typeof ctx === 'object' ? (ctx as Record<symbol, unknown>)[GATEWAY] : undefined;
  return g && typeof g === 'object' ? (g as SyncGateway) : null;
}
