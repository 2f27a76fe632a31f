/**
 * Per-actor request rate limit: a token bucket per key (by default the actor's scope and user),
 * holding at most `requests` tokens and refilled at `requests` per `windowMs`. Each push, pull,
 * full page and stream opening takes one token; an empty bucket refuses the request with
 * `TOO_MANY_REQUESTS` and the time until the next token. Buckets live in this process, so with N
 * server processes an actor gets up to N times the limit. The same buckets (`createTokenBuckets`)
 * back the HTTP server's per-IP limit.
 */
import type { Actor } from '../../shared/protocol.js';

/** The operations the limit counts. */
export type RateLimitedOp = 'push' | 'pull' | 'full' | 'stream';

export interface RateLimitOptions {
  /** Requests allowed per window, and the burst size (a full bucket). */
  requests: number;
  /** The window those requests are spread over (ms). */
  windowMs: number;
  /** Which bucket a request takes from. @default `${scopeId} ${userId}` */
  key?: (actor: Actor, op: RateLimitedOp) => string;
}

/** Idle buckets are forgotten once more than this many exist (a full bucket is the default state). */
const SWEEP_ABOVE = 10_000;

export interface RateLimiter {
  /** Takes a token for `actor`: 0 when allowed, else the milliseconds until one is available. */
  take(actor: Actor, op: RateLimitedOp): number;
}

export function createRateLimiter(
  options: RateLimitOptions,
  now: () => number = Date.now,
): RateLimiter {
  const buckets = createTokenBuckets(options, now);
  const key = options.key ?? ((actor: Actor) => `${actor.scopeId} ${actor.userId}`);
  return { take: (actor, op) => buckets.take(key(actor, op)) };
}

/** Token buckets by string key: the arithmetic behind both the per-actor and the per-IP limits. */
export interface TokenBuckets {
  /** Takes a token from `key`'s bucket: 0 when allowed, else the milliseconds until one is available. */
  take(key: string): number;
  /** How many buckets are held now (idle ones are forgotten once more than 10,000 are held). */
  readonly size: number;
}

/**
 * `requests` tokens per bucket, refilled at `requests` per `windowMs`; a key seen for the first
 * time starts with a full bucket. Idle (full) buckets are swept once the map grows, so memory
 * follows the keys active within one window.
 */
export function createTokenBuckets(
  options: { requests: number; windowMs: number },
  now: () => number = Date.now,
): TokenBuckets {
  const { requests, windowMs } = options;
  const perMs = requests / windowMs;
  const buckets = new Map<string, { tokens: number; at: number }>();
  // The next sweep waits until the map has doubled since the last one, so many busy keys cost
  // one sweep per doubling rather than one per new key.
  let sweepAt = SWEEP_ABOVE;

  const sweep = (t: number) => {
    for (const [k, b] of buckets) if (b.tokens + (t - b.at) * perMs >= requests) buckets.delete(k);
    sweepAt = Math.max(SWEEP_ABOVE, buckets.size * 2);
  };

  return {
    take(k) {
      const t = now();
      let bucket = buckets.get(k);
      if (!bucket) {
        if (buckets.size >= sweepAt) sweep(t);
        bucket = { tokens: requests, at: t };
        buckets.set(k, bucket);
      } else {
        bucket.tokens = Math.min(requests, bucket.tokens + Math.max(0, t - bucket.at) * perMs);
        bucket.at = t;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs));
    },
    get size() {
      return buckets.size;
    },
  };
}
