/**
 * Transport limits: what a face reads and holds for one request or connection (body, URL, query,
 * live caps, bytes held for a slow peer). They belong to the gateway, not the engine; the engine's
 * `limits` / `stream` options still accept the old names and forward them here as defaults.
 */
import { z } from 'zod';

/** Limits every face applies before or around an engine call (each with its CLI variable). */
export interface TransportLimits {
  /**
   * Largest request body the HTTP faces read (bytes); larger answers 413. CLI
   * `SYNC_MAX_BODY_BYTES`. @default 16 MiB
   */
  maxBodyBytes: number;
  /**
   * Longest request URL (path and query, characters); longer answers 414. The default fits the
   * largest valid REST request and stays below Node's 16 KiB header limit. CLI
   * `SYNC_MAX_URL_LENGTH`. @default 10000
   */
  maxUrlLength: number;
  /**
   * Most query parameters in one request; more answer 400 naming `query`. CLI
   * `SYNC_MAX_QUERY_PARAMS`. @default 16
   */
  maxQueryParams: number;
  /**
   * Live connections (SSE, raw WebSocket, tRPC WebSocket or SSE subscription) one actor may hold
   * on this gateway; one more answers 429 (close 4429). CLI `SYNC_MAX_LIVE_CONNECTIONS_PER_ACTOR`.
   * @default 16
   */
  maxLiveConnectionsPerActor: number;
  /**
   * Live subscriptions one connection may multiplex (tRPC over WebSocket); one more answers 429.
   * @default 32
   */
  maxSubscriptionsPerConnection: number;
  /**
   * Bytes held for one live connection the peer has not taken yet; past it, live, the subscriber is
   * told to resync and closed (4409). CLI `SYNC_STREAM_MAX_BUFFERED_BYTES`. @default 1 MiB
   */
  maxBufferedBytes: number;
  /**
   * How long a slow consumer's connection stays open to take its final `resync_required`. @default
   * 5000
   */
  slowConsumerGraceMs: number;
}

/** Every transport limit's default. */
export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxUrlLength: 10_000,
  maxQueryParams: 16,
  maxLiveConnectionsPerActor: 16,
  maxSubscriptionsPerConnection: 32,
  maxBufferedBytes: 1024 * 1024,
  slowConsumerGraceMs: 5000,
};

/** The names of the transport limits (the engine's `limits`/`stream` options still take them). */
export const TRANSPORT_LIMIT_NAMES = Object.keys(
  DEFAULT_TRANSPORT_LIMITS,
) as (keyof TransportLimits)[];

const positiveInt = z.number().int().positive();
const transportLimitsSchema = z.object({
  maxBodyBytes: positiveInt,
  maxUrlLength: positiveInt.min(64),
  maxQueryParams: positiveInt.max(1000),
  maxLiveConnectionsPerActor: positiveInt,
  maxSubscriptionsPerConnection: positiveInt,
  maxBufferedBytes: positiveInt.min(1024),
  slowConsumerGraceMs: z.number().int().nonnegative(),
});

/**
 * Merges defaults, then `forwarded` (what the engine was given under its old option names), then
 * `given` (the face's own options), and checks each once; a bad one throws naming it (`who`).
 */
export function resolveTransportLimits(
  given: Partial<TransportLimits> | undefined,
  forwarded: Partial<TransportLimits> | undefined,
  who: string,
): TransportLimits {
  const merged: Record<string, unknown> = { ...DEFAULT_TRANSPORT_LIMITS };
  for (const source of [forwarded, given]) {
    for (const name of TRANSPORT_LIMIT_NAMES)
      if (source?.[name] !== undefined) merged[name] = source[name];
  }
  const result = transportLimitsSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${who}: option ${issue.path.join('.')}: ${issue.message}`);
  }
  return result.data;
}

/** Picks the transport limits out of any object holding them (e.g. `SYNC_MAX_*` env values). */
export function pickTransportLimits(source: object | undefined): Partial<TransportLimits> {
  const out: Partial<TransportLimits> = {};
  const from = (source ?? {}) as Partial<TransportLimits>;
  for (const name of TRANSPORT_LIMIT_NAMES) if (from[name] !== undefined) out[name] = from[name];
  return out;
}
