/** The listeners' transport timeouts from `SYNC_REQUEST_TIMEOUT_MS` / `SYNC_HEADERS_TIMEOUT_MS`, each checked with one clear line for a bad value. */
import { DEFAULT_TIMEOUTS, type TransportTimeouts } from '../http/transport-guard.js';

/** Which environment variable sets which transport timeout (docs/limits.md lists the same table). */
export const TIMEOUT_ENV = {
  SYNC_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  SYNC_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
} as const satisfies Record<string, keyof TransportTimeouts>;

/** Help lines for the timeout variables. */
export const TIMEOUTS_HELP = `  Transport timeouts (milliseconds, both ports; defaults in parentheses; a slower client gets 408; see docs/limits.md):
  ${'SYNC_REQUEST_TIMEOUT_MS'.padEnd(38)}requestTimeoutMs (${DEFAULT_TIMEOUTS.requestTimeoutMs}): whole request, headers and body
  ${'SYNC_HEADERS_TIMEOUT_MS'.padEnd(38)}headersTimeoutMs (${DEFAULT_TIMEOUTS.headersTimeoutMs}): request headers; at most the request timeout
`;

/**
 * Reads the `TIMEOUT_ENV` variables that are set (empty counts as unset). A value that is no
 * positive integer of milliseconds, or a headers timeout above the request timeout, throws an
 * Error naming the variable; `fail` turns the message into the CLI's error type.
 */
export function readTimeoutsEnv(
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error = (m) => new Error(m),
): TransportTimeouts {
  const timeouts: TransportTimeouts = {};
  for (const [name, key] of Object.entries(TIMEOUT_ENV)) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw.replace(/_/g, ''));
    if (!/^[0-9][0-9_]{0,12}$/.test(raw) || value < 1 || value > 2_147_483_647) {
      throw fail(
        `${name}: expected a positive integer of milliseconds, at most 2147483647 (${key}, default ${DEFAULT_TIMEOUTS[key]}), got "${env[name]}"`,
      );
    }
    timeouts[key] = value;
  }
  const request = timeouts.requestTimeoutMs ?? DEFAULT_TIMEOUTS.requestTimeoutMs;
  const headers = timeouts.headersTimeoutMs ?? Math.min(DEFAULT_TIMEOUTS.headersTimeoutMs, request);
  // An unset headers timeout follows a smaller request timeout down, so only a set one can exceed it.
  if (headers > request)
    throw fail(
      `SYNC_HEADERS_TIMEOUT_MS: headersTimeoutMs (${headers}) must not exceed requestTimeoutMs (${request})`,
    );
  return timeouts;
}
