/** Options of `createSyncClient`, with their defaults in one place. */
import type { SyncSchema } from '../shared/schema.js';
import type { SyncApi } from './api.js';
import type { IntegrityOptions } from './integrity.js';
import type { LocalStore } from './local-store.js';
import { DEFAULT_DEAD_LETTER, type DeadLetterOptions } from './dead-letters.js';
import { DEFAULT_PING, type PingOptions } from './ping.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry.js';
import type { Connectivity } from './status.js';
import { realTimers, type Timers } from './timers.js';
import { canCoordinateTabs } from './tabs.js';
import type { GetToken, TokenSource } from './token-source.js';

export interface SyncClientOptions<S extends SyncSchema> {
  /** The app's typed tRPC proxy for the sync router: `trpc.sync`. */
  api: SyncApi;
  /** The collections (the same `defineSyncSchema` object the server uses). */
  schema: S;
  /** Where documents, the outbox and the checkpoint live. @default memoryLocalStore() */
  store?: LocalStore;
  /** This device's id. @default the one saved in the store, else a new random id (then saved) */
  clientId?: string;
  /** Only these collections are pulled and streamed. @default every collection the server has */
  collections?: string[];
  /** Changes per push request (the server's default limit is 1000). @default 500 */
  batchSize?: number;
  /** Pull page size. @default the server's (500) */
  pullLimit?: number;
  /** Full-export page size during a resync. @default the server's (1000) */
  fullLimit?: number;
  /**
   * Backoff for network failures: exponential from `baseMs`, half fixed and half random, capped at
   * `maxMs`. `retries` bounds the retries inside one explicit `sync()` / `push()` / `pull()`; live
   * pushes and stream reconnects retry without a bound, each after the next backoff delay.
   * @default { retries: 5, baseMs: 250, maxMs: 30000 }
   */
  retry?: Partial<RetryOptions>;
  /**
   * Live mode's reachability ping: after `intervalMs` without a sign of life from the server, one
   * small request (a pull of at most one change, not applied) must be answered within `timeoutMs`,
   * else the status turns `offline`. So an unreachable server shows `offline` at most
   * `intervalMs + timeoutMs` (9 s by default) after its last sign of life; a closed connection is
   * checked at once. `false`: no ping (then only failed requests and connection errors say offline).
   * @default { intervalMs: 5000, timeoutMs: 4000 }
   */
  ping?: Partial<PingOptions> | false;
  /**
   * Live mode: with changes pending and none acknowledged for this long while connected, the
   * status turns `stalled` (reason `OUTBOX_STALLED`) until one is. @default 60000
   */
  stallAfterMs?: number;
  /** When a change that keeps failing is dead-lettered (see `deadLetters()`). @default { afterAttempts: 3 } */
  deadLetter?: Partial<DeadLetterOptions>;
  /** The clock and timers of the status machinery (ping, watchdog, ages): tests pass fakes. @default Date.now / setTimeout */
  timers?: Timers;
  /**
   * Integrity checksums (see docs/client.md, "Integrity checksums"): the client keeps the server's
   * per-collection checksum over the documents it holds, compares it at each checkpoint that
   * carries one and repairs a collection that disagrees (an `integrity` event). `false`: off.
   * @default { auditIntervalMs: 300000, minRepairIntervalMs: 60000, viewCheckIntervalMs: 300000 }
   */
  integrity?: IntegrityOptions | false;
  /** Live mode: wait this long after a local change before pushing, so bursts go in one request (ms). @default 50 */
  pushDebounceMs?: number;
  /**
   * Where the bearer token comes from, shared with the app's links (see `createTokenSource`): the
   * client refreshes it once after an UNAUTHORIZED answer and retries, and before it expires.
   * @default none (the app's links carry a fixed token)
   */
  tokens?: TokenSource;
  /** Shorthand for `tokens: createTokenSource(getToken)`. */
  getToken?: GetToken;
  /**
   * The platform's connectivity signal (React Native: wrap NetInfo), or `null` for none.
   * @default `navigator.onLine` and the window's `online` / `offline` events where they exist
   */
  connectivity?: Connectivity | null;
  /**
   * Many tabs of one origin on one shared store (`indexedDbLocalStore`): exactly one tab (the
   * leader, elected with Web Locks, BroadcastChannel heartbeats where there are none) pushes,
   * pulls and runs live mode; the other tabs write to the shared store (mutation ids from its one
   * counter, under `exclusive()`), tell the leader, and see every change as `change` events. When
   * the leader closes, another tab takes over. `true` or `{ name }`: tabs with the same name
   * coordinate. Where there is no BroadcastChannel (React Native) it does nothing. Leave it off
   * for a store only one tab can see (memory). See docs/client.md, "Many tabs".
   * @default false
   */
  tabs?: boolean | TabsOptions;
}

/** The `tabs` option in full. */
export interface TabsOptions {
  /** Tabs with the same name coordinate. @default the store's `name` (the IndexedDB database name), else `'default'` */
  name?: string;
  /** How long a follower's `sync()` / `push()` / `pull()` / `resync()` waits for the leader to answer (ms). @default 30000 */
  callTimeoutMs?: number;
  /** Fallback election only (no Web Locks): heartbeat interval (ms). @default 1000 */
  heartbeatMs?: number;
  /** Fallback election only: how long a silent leader is waited for before another tab leads (ms). @default 3000 */
  timeoutMs?: number;
}

/** The `tabs` option resolved (`null`: off). */
export interface ResolvedTabs {
  name: string;
  callTimeoutMs: number;
  heartbeatMs: number;
  timeoutMs: number;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  batchSize: number;
  pullLimit: number | undefined;
  fullLimit: number | undefined;
  collections: string[] | undefined;
  retry: RetryOptions;
  pushDebounceMs: number;
  tabs: ResolvedTabs | null;
  ping: PingOptions | null;
  stallAfterMs: number;
  deadLetter: DeadLetterOptions;
  timers: Timers;
}

/** Merges the defaults once and checks the numbers, with a message naming the bad option. */
export function resolveOptions(options: SyncClientOptions<SyncSchema>): ResolvedOptions {
  const resolved: ResolvedOptions = {
    batchSize: options.batchSize ?? 500,
    pullLimit: options.pullLimit,
    fullLimit: options.fullLimit,
    collections: options.collections,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    pushDebounceMs: options.pushDebounceMs ?? 50,
    tabs: resolveTabs(options),
    ping: options.ping === false ? null : { ...DEFAULT_PING, ...options.ping },
    stallAfterMs: options.stallAfterMs ?? 60_000,
    deadLetter: { ...DEFAULT_DEAD_LETTER, ...options.deadLetter },
    timers: options.timers ?? realTimers,
  };
  const positive = (name: string, value: number | undefined) => {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0))
      throw new Error(`createSyncClient: ${name} must be a positive integer (got ${value})`);
  };
  positive('batchSize', resolved.batchSize);
  positive('pullLimit', resolved.pullLimit);
  positive('fullLimit', resolved.fullLimit);
  if (resolved.retry.retries < 0 || resolved.retry.baseMs < 0 || resolved.retry.maxMs < 0)
    throw new Error('createSyncClient: retry values must not be negative');
  if (resolved.pushDebounceMs < 0)
    throw new Error('createSyncClient: pushDebounceMs must not be negative');
  if (resolved.ping) {
    positive('ping.intervalMs', resolved.ping.intervalMs);
    positive('ping.timeoutMs', resolved.ping.timeoutMs);
  }
  positive('stallAfterMs', resolved.stallAfterMs);
  positive('deadLetter.afterAttempts', resolved.deadLetter.afterAttempts);
  if (resolved.tabs) {
    positive('tabs.callTimeoutMs', resolved.tabs.callTimeoutMs);
    positive('tabs.heartbeatMs', resolved.tabs.heartbeatMs);
    positive('tabs.timeoutMs', resolved.tabs.timeoutMs);
  }
  if (!options.api?.push || !options.api.pull || !options.api.full || !options.api.stream) {
    throw new Error(
      'createSyncClient: api must be the sync router proxy (trpc.sync) with push, pull, full and stream',
    );
  }
  return resolved;
}

/** `tabs` with its defaults; `null` when off or when the platform cannot coordinate tabs (no BroadcastChannel). */
function resolveTabs(options: SyncClientOptions<SyncSchema>): ResolvedTabs | null {
  const given = options.tabs;
  if (!given || !canCoordinateTabs()) return null;
  const tabs: TabsOptions = given === true ? {} : given;
  if (typeof tabs !== 'object')
    throw new Error(
      'createSyncClient: tabs must be true, false or { name?, callTimeoutMs?, heartbeatMs?, timeoutMs? }',
    );
  const storeName = (options.store as { name?: unknown } | undefined)?.name;
  const name = tabs.name ?? (typeof storeName === 'string' && storeName ? storeName : 'default');
  if (typeof name !== 'string' || name.length === 0)
    throw new Error('createSyncClient: tabs.name must be a non-empty string');
  return {
    name,
    callTimeoutMs: tabs.callTimeoutMs ?? 30_000,
    heartbeatMs: tabs.heartbeatMs ?? 1_000,
    timeoutMs: tabs.timeoutMs ?? 3_000,
  };
}
