/** The per-IP request limit of the one-port server: every HTTP request and WebSocket upgrade takes a token from its client address's bucket, before anything is read. */
import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { SyncError } from '../../shared/errors.js';
import { createTokenBuckets } from '../engine/rate-limit.js';

/** Options of the per-IP limit (`createSyncHttpServer({ ipRateLimit })`, CLI `SYNC_RATE_LIMIT_IP`). */
export interface IpRateLimitOptions {
  /** Requests allowed per window per client address, and the burst size. */
  requests: number;
  /** The window those requests are spread over (ms). */
  windowMs: number;
}

/** What a per-IP refusal counted: an HTTP request or a WebSocket upgrade. */
export type IpRateLimitedOp = 'request' | 'upgrade';

/** Told of each per-IP refusal (metrics `sync_rate_limited_total{kind="ip"}`, logs). */
export interface IpRateLimitedEvent {
  type: 'ip_rate_limited';
  /** The bucket key: an IPv4 address, or an IPv6 address's /64 prefix. */
  ip: string;
  op: IpRateLimitedOp;
  retryAfterMs: number;
}

/** The per-IP limiter of a server. */
export interface IpRateLimiter {
  /** Takes a token for `req`'s client: 0 when allowed, else the milliseconds until one is available (and the refusal is reported). */
  take(req: IncomingMessage, op: IpRateLimitedOp): number;
  /** The TOO_MANY_REQUESTS error for a refusal, with `retryAfterMs`. */
  error(waitMs: number): SyncError;
}

/**
 * The client address of `req`. With `trustProxy` hops (0: off), the address the outermost
 * trusted proxy saw is read from `X-Forwarded-For` (the `trustProxy`-th entry from the right:
 * entries further left are written by the client and can be forged); otherwise, or when the
 * header holds no address there, the socket's peer address.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  if (trustProxy > 0) {
    const header = req.headers['x-forwarded-for'];
    const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    const entry = entries.length > 0 ? entries[Math.max(0, entries.length - trustProxy)]! : '';
    const ip = normalizeAddress(entry);
    if (ip) return ip;
  }
  return normalizeAddress(req.socket.remoteAddress ?? '') ?? 'unknown';
}

/**
 * An address as a bucket key: IPv4-mapped IPv6 as IPv4, IPv6 cut to its /64 prefix (one
 * subscriber usually holds a whole /64, so counting single IPv6 addresses is easy to dodge);
 * null for anything that is no IP address (also `[v6]:port` and `v4:port` forms are read).
 */
export function normalizeAddress(raw: string): string | null {
  let a = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(a);
  if (mapped) a = mapped[1]!;
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return null;
  return `${expandIPv6(a.split('%')[0]!).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(a: string): string[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4 was handled above; others are rare) counts as two groups.
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(Math.max(0, fill)).fill('0'), ...right].map((g) =>
    g.includes('.') ? g : g.toLowerCase().replace(/^0+(?=.)/, ''),
  );
}

/** Creates the limiter; `onLimited` is told of every refusal. */
export function createIpRateLimiter(
  options: IpRateLimitOptions & {
    trustProxy?: number;
    onLimited?: (event: IpRateLimitedEvent) => void;
    now?: () => number;
  },
): IpRateLimiter {
  for (const name of ['requests', 'windowMs'] as const) {
    const v = options[name];
    if (!Number.isSafeInteger(v) || v < 1)
      throw new Error(
        `createSyncHttpServer: option ipRateLimit.${name}: expected a positive integer, got ${String(v)}`,
      );
  }
  const buckets = createTokenBuckets(options, options.now);
  const hops = options.trustProxy ?? 0;
  return {
    take(req, op) {
      const ip = clientAddress(req, hops);
      const waitMs = buckets.take(ip);
      if (waitMs > 0) {
        try {
          options.onLimited?.({ type: 'ip_rate_limited', ip, op, retryAfterMs: waitMs });
        } catch {
          // a metrics hook must never break serving
        }
      }
      return waitMs;
    },
    error(waitMs) {
      return new SyncError(
        'TOO_MANY_REQUESTS',
        `rate limit: at most ${options.requests} requests per ${options.windowMs} ms from this address; retry in ${Math.ceil(waitMs / 1000)} s`,
        [],
        { retryAfterMs: waitMs },
      );
    },
  };
}

/** Answers a refused WebSocket upgrade with a plain HTTP error (no WebSocket exists yet) and closes the socket. */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  reason: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.on('error', () => undefined);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}
