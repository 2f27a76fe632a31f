/** `LiveTransport`s for the connections the live faces run on: a `ws` WebSocket and a Node `http` response. */
import type { ServerResponse } from 'node:http';
import type { WsSocket as WebSocket } from '../ws-types.js';
import type { LiveTransport } from './slow-consumers.js';

/** How long `drained()` waits before the caller looks again (a missed event costs at most this). */
const RECHECK_MS = 250;

/** Close code of a slow consumer's WebSocket: 4000 + 409, the status of `RESYNC_REQUIRED`. */
export const SLOW_CONSUMER_CLOSE_CODE = 4409;

const byConnection = new WeakMap<object, LiveTransport>();

/** Resolves on the first of `events` on `emitter`, or after `RECHECK_MS`; removes its listeners. */
function firstOf(
  emitters: Array<
    [
      (
        | { once(e: string, f: () => void): unknown; off(e: string, f: () => void): unknown }
        | undefined
      ),
      string,
    ]
  >,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const [emitter, event] of emitters) emitter?.off(event, done);
      resolve();
    };
    const timer = setTimeout(done, RECHECK_MS);
    for (const [emitter, event] of emitters) emitter?.once(event, done);
  });
}

/**
 * The transport of a `ws` WebSocket: `bufferedAmount` is what it holds; a slow consumer is closed
 * with 4409 and cut when the close handshake does not finish in the grace time. One transport per
 * socket, so subscriptions multiplexed on it share their connection for the caps.
 */
export function wsTransport(socket: WebSocket): LiveTransport {
  let transport = byConnection.get(socket);
  if (transport) return transport;
  // `ws` exposes no drain event; its net.Socket does.
  const raw = () =>
    (
      socket as unknown as {
        _socket?: {
          once(e: string, f: () => void): unknown;
          off(e: string, f: () => void): unknown;
        };
      }
    )._socket;
  transport = {
    connection: socket,
    buffered: () => socket.bufferedAmount,
    drained: () =>
      socket.readyState === socket.OPEN
        ? firstOf([
            [raw(), 'drain'],
            [socket, 'close'],
          ])
        : Promise.resolve(),
    cut: () => socket.terminate(),
    closeSlow(graceMs) {
      if (socket.readyState === socket.OPEN)
        socket.close(SLOW_CONSUMER_CLOSE_CODE, 'slow consumer: resync required');
      const timer = setTimeout(() => socket.terminate(), graceMs);
      timer.unref?.();
      socket.once('close', () => clearTimeout(timer));
    },
  };
  byConnection.set(socket, transport);
  return transport;
}

/** The transport of a Node response carrying a stream (tRPC's SSE): `writableLength` is what it holds. */
export function responseTransport(res: ServerResponse): LiveTransport {
  let transport = byConnection.get(res);
  if (transport) return transport;
  transport = {
    connection: res,
    buffered: () => res.writableLength,
    drained: () =>
      res.destroyed
        ? Promise.resolve()
        : firstOf([
            [res, 'drain'],
            [res, 'close'],
          ]),
    cut: () => void res.destroy(),
    closeSlow(graceMs) {
      // The face ends the response after the resync; a peer that does not take it is cut.
      const timer = setTimeout(() => void (res.writableFinished || res.destroy()), graceMs);
      timer.unref?.();
      res.once('close', () => clearTimeout(timer));
    },
  };
  byConnection.set(res, transport);
  return transport;
}

const CONNECTION = Symbol.for('trpc-offline-sync.liveConnection');

/**
 * Marks a tRPC context with the connection it came on (the `res` of tRPC's `createContext`
 * options: the WebSocket, or the HTTP response), so `sync.stream` can bound what it holds for a
 * slow peer and count the caps per connection. `createSyncHttpServer` does this; an app with its
 * own tRPC server calls it in `createContext`. Returns `ctx`. The mark is an enumerable symbol,
 * so middleware that spreads the context keeps it.
 *
 * @example
 * createContext: ({ req, res }) => withLiveConnection({ actor: await authenticate(req) }, res)
 */
export function withLiveConnection<T>(ctx: T, res: unknown): T {
  if (
    ctx &&
    typeof ctx === 'object' &&
    res &&
    typeof res === 'object' &&
    Object.isExtensible(ctx)
  ) {
    try {
      (ctx as Record<symbol, unknown>)[CONNECTION] = res;
    } catch {
      // a context that refuses the mark only loses the socket-buffer bound
    }
  }
  return ctx;
}

/** The transport of the connection `withLiveConnection` marked `ctx` with, or null. */
export function liveTransportOf(ctx: unknown): LiveTransport | null {
  const res =
    ctx && typeof ctx === 'object' ? (ctx as Record<symbol, unknown>)[CONNECTION] : undefined;
  if (!res || typeof res !== 'object') return null;
  if ('bufferedAmount' in res && 'terminate' in res) return wsTransport(res as WebSocket);
  if ('writableLength' in res && 'destroy' in res) return responseTransport(res as ServerResponse);
  return null;
}
