/** Transport bounds every http listener of the package shares: request and header timeouts (slow bodies are cut) and a `clientError` handler that answers 4xx and closes, never throws. */
import http from 'node:http';
import type { Duplex } from 'node:stream';

/** Timeouts of one listener (transport options, not the engine's document limits). */
export interface TransportTimeouts {
  /**
   * Time a client has to send a whole request, headers and body (Node's `server.requestTimeout`);
   * a slower one is answered 408 and closed. A large push over a slow link needs a larger value.
   * CLI `SYNC_REQUEST_TIMEOUT_MS`. @default 30000
   */
  requestTimeoutMs?: number;
  /** Time a client has to send a request's headers (Node's `server.headersTimeout`); at most `requestTimeoutMs`. CLI `SYNC_HEADERS_TIMEOUT_MS`. @default 10000 */
  headersTimeoutMs?: number;
}

/** The default timeouts (Node's own 300 s request timeout is too generous for a sync server). */
export const DEFAULT_TIMEOUTS = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
} as const satisfies Required<TransportTimeouts>;

/** Largest timeout Node's timers take (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Checks `timeouts` (positive integers of milliseconds, headers within request) and answers the
 * `http.createServer` options that apply them; throws an Error naming the option for a bad value.
 */
export function timeoutServerOptions(timeouts: TransportTimeouts, who: string): http.ServerOptions {
  const requestTimeout = timeouts.requestTimeoutMs ?? DEFAULT_TIMEOUTS.requestTimeoutMs;
  const headersTimeout =
    timeouts.headersTimeoutMs ?? Math.min(DEFAULT_TIMEOUTS.headersTimeoutMs, requestTimeout);
  for (const [name, value] of [
    ['requestTimeoutMs', requestTimeout],
    ['headersTimeoutMs', headersTimeout],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_TIMEOUT_MS)
      throw new Error(
        `${who}: ${name} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${String(value)}`,
      );
  }
  if (headersTimeout > requestTimeout)
    throw new Error(
      `${who}: headersTimeoutMs (${headersTimeout}) must not exceed requestTimeoutMs (${requestTimeout})`,
    );
  // Node looks for expired requests on this interval (30 s by default, which would stretch short timeouts).
  const connectionsCheckingInterval = Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4)));
  return { requestTimeout, headersTimeout, connectionsCheckingInterval };
}

/** Status lines `clientError` answers, by Node's error code (anything else is a 400). */
const CLIENT_ERROR_STATUS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
};

/**
 * Answers what Node's parser refused (malformed request line or headers, bad chunked encoding,
 * a timeout) with a small 4xx and closes the socket; a socket that can no longer be written to, or
 * whose response already started, is just destroyed. Never throws.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  try {
    socket.on('error', () => undefined);
    const started =
      (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
        ?.headersSent === true;
    if (error.code === 'ECONNRESET' || !socket.writable || started) return void socket.destroy();
    const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? '400 Bad Request';
    const body = JSON.stringify({
      error: {
        code: status.startsWith('408') ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST',
        message: status.slice(4),
        issues: [],
      },
    });
    // Destroyed once written: a client that never half-closes cannot keep the socket open.
    socket.end(
      `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  } catch {
    socket.destroy();
  }
}

/**
 * An http server with the package's transport guards: `timeouts` applied (see
 * `timeoutServerOptions`) and `answerClientError` on `clientError`.
 *
 * @example
 * const server = createGuardedServer({ requestTimeoutMs: 30_000 }, 'createMetricsServer', (req, res) => res.end());
 */
export function createGuardedServer(
  timeouts: TransportTimeouts,
  who: string,
  listener: http.RequestListener,
): http.Server {
  const server = http.createServer(timeoutServerOptions(timeouts, who), listener);
  server.on('clientError', answerClientError);
  return server;
}
