/**
 * Transport bounds of the one-port server (not engine limits: they bound requests and sockets, not
 * documents): calls per tRPC batch, bytes of answers one request assembles, WebSocket frame size,
 * and the time a WebSocket has to authenticate. Defaults merged and checked once here.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { WsServer } from '../ws-types.js';
import { SyncError } from '../../shared/errors.js';

/** The frame bound of the raw stream faces (`WS /sync/stream`, compat): their only client frame is a subscribe frame. */
export const RAW_WS_MAX_PAYLOAD = 64 * 1024;

/** Close code of a WebSocket that did not authenticate in time: 4000 + 401. */
export const AUTH_TIMEOUT_CLOSE_CODE = 4401;

/** Request and socket bounds of `createSyncHttpServer` (each with its CLI variable). */
export interface RequestBounds {
  /**
   * Calls one tRPC batch may carry (HTTP: one request; WebSocket: one frame). A larger HTTP batch
   * is refused whole with 400 `BAD_REQUEST` naming this option before any call runs; a larger
   * WebSocket frame gets tRPC's `BAD_REQUEST` for each of its calls. Set the client's
   * `httpBatchLink({ maxItems })` to this or less. CLI `SYNC_MAX_BATCH_CALLS`. @default 16
   */
  maxBatchCalls?: number;
  /**
   * Bytes of `sync.push`/`pull`/`full` answers one tRPC HTTP request may assemble (a batch of
   * `full` pages counts every page); its calls run one after another, and once the answers hold
   * this many bytes the later calls are refused with 413 `PAYLOAD_TOO_LARGE` naming this option
   * (the first call always runs: a page is bounded by the engine's page limits). On a tRPC
   * WebSocket it bounds the answers the socket still holds for a peer that does not read them.
   * CLI `SYNC_MAX_RESPONSE_BYTES`. @default 16 MiB
   */
  maxResponseBytes?: number;
  /**
   * Largest WebSocket frame (message) accepted on the tRPC WebSocket, refused by its header before
   * anything is buffered or parsed (close 1009). The raw stream faces keep their 64 KiB frames
   * (lowered by this option when it is smaller). CLI `SYNC_WS_MAX_PAYLOAD_BYTES`. @default `limits.maxBodyBytes`
   */
  wsMaxPayloadBytes?: number;
  /**
   * Time a WebSocket has to authenticate: a tRPC WebSocket whose token (`?token=`, `Authorization`
   * or connection params) gives no actor by then is closed with 4401; the raw stream faces close
   * with 4408 when no subscribe frame came (a bad token there closes at once with 4401). 0 turns it
   * off on tRPC (for apps serving anonymous WebSocket calls of their own). CLI `SYNC_WS_AUTH_TIMEOUT_MS`. @default 10000
   */
  wsAuthTimeoutMs?: number;
}

/** `RequestBounds` with every default filled in. */
export type ResolvedRequestBounds = Required<RequestBounds>;

export const DEFAULT_MAX_BATCH_CALLS = 16;
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_WS_AUTH_TIMEOUT_MS = 10_000;

/** The smallest frame bound: a connection-params frame carrying a long token must fit. */
export const MIN_WS_MAX_PAYLOAD = 16 * 1024;

/** Merges the defaults and checks each bound; a bad one throws naming it (`who`: the factory). */
export function resolveRequestBounds(
  options: RequestBounds,
  limits: { maxBodyBytes: number },
  who: string,
): ResolvedRequestBounds {
  const bounds = {
    maxBatchCalls: options.maxBatchCalls ?? DEFAULT_MAX_BATCH_CALLS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    wsMaxPayloadBytes:
      options.wsMaxPayloadBytes ?? Math.max(limits.maxBodyBytes, MIN_WS_MAX_PAYLOAD),
    wsAuthTimeoutMs: options.wsAuthTimeoutMs ?? DEFAULT_WS_AUTH_TIMEOUT_MS,
  };
  const check = (name: keyof RequestBounds, min: number, what: string) => {
    const v = bounds[name];
    if (!Number.isSafeInteger(v) || v < min)
      throw new Error(`${who}: ${name} must be ${what}, got ${String(options[name])}`);
  };
  check('maxBatchCalls', 1, 'a positive integer');
  check('maxResponseBytes', 1024, 'a whole number of bytes, at least 1024');
  check(
    'wsMaxPayloadBytes',
    MIN_WS_MAX_PAYLOAD,
    `a whole number of bytes, at least ${MIN_WS_MAX_PAYLOAD}`,
  );
  check('wsAuthTimeoutMs', 0, 'a whole number of milliseconds (0: no timeout)');
  return bounds;
}

/**
 * BAD_REQUEST when the tRPC request `target` (`/trpc/a,b,c?batch=1`) batches more than `max`
 * calls, else null. Counted on the raw path: tRPC decodes it once, so `%2C` counts as a comma.
 */
export function batchTooLarge(target: string, max: number): SyncError | null {
  const q = target.indexOf('?');
  if (q < 0 || new URLSearchParams(target.slice(q + 1)).get('batch') !== '1') return null;
  const calls = (target.slice(0, q).match(/,|%2c/gi)?.length ?? 0) + 1;
  if (calls <= max) return null;
  const message = `at most ${max} calls per batch (maxBatchCalls), got ${calls}`;
  return new SyncError(
    'BAD_REQUEST',
    `batch too large: ${message}; set httpBatchLink({ maxItems: ${max} }) on the client`,
    [{ path: 'batch', message }],
  );
}

/**
 * Closes tRPC WebSockets that do not authenticate within `timeoutMs` (4401). Listen before tRPC's
 * handler, so the timer exists before the context is built; `authenticated(res)` clears it.
 */
export function closeUnauthenticated(
  wss: WsServer,
  timeoutMs: number,
): { authenticated(res: unknown): void } {
  const timers = new WeakMap<object, ReturnType<typeof setTimeout>>();
  if (timeoutMs > 0) {
    wss.on('connection', (socket: WebSocket, _req: IncomingMessage) => {
      const timer = setTimeout(() => {
        timers.delete(socket);
        if (socket.readyState === socket.OPEN)
          socket.close(
            AUTH_TIMEOUT_CLOSE_CODE,
            'authentication required in time (wsAuthTimeoutMs)',
          );
      }, timeoutMs);
      timers.set(socket, timer);
      socket.once('close', () => clearTimeout(timer));
    });
  }
  return {
    authenticated(res) {
      if (!res || typeof res !== 'object') return;
      const timer = timers.get(res);
      if (timer === undefined) return;
      clearTimeout(timer);
      timers.delete(res);
    },
  };
}

/** Errors `ws` raises for a frame it refused (too large, malformed): the socket is closed, nothing unexpected happened. */
export function isWebSocketFrameError(error: unknown): boolean {
  for (
    let e: unknown = error, i = 0;
    e && typeof e === 'object' && i < 3;
    e = (e as { cause?: unknown }).cause, i++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('WS_ERR_')) return true;
  }
  return false;
}
