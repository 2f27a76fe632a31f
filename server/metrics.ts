/** Prometheus metrics (prom-client) fed by the engine's `onEvent` hook. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuthFailureReason } from './auth/count-failures.js';
import type { EngineEvent } from './engine/types.js';
import type { IpRateLimitedEvent } from './http/ip-rate-limit.js';
import type { OplogStats } from './stores/store.js';

/**
 * The part of a prom-client `Registry` the metrics expose, declared here so that importing the
 * server's types needs no prom-client (a prom-client `Registry` is one). Pass your own registry
 * in `MetricsOptions.registry` to keep its full type.
 */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
  getSingleMetric(name: string):
    | {
        get(): Promise<{
          values: { value: number; labels: Record<string, string | number | undefined> }[];
        }>;
      }
    | undefined;
}

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** Registry to register in. @default a new registry (so several servers in one process do not collide) */
  registry?: MetricsRegistry;
  /** Prefix of every metric name. @default 'sync_' */
  prefix?: string;
  /** Also collect Node process metrics (CPU, memory, event loop). @default true */
  processMetrics?: boolean;
  /**
   * The store whose `oplogStats()` feeds `sync_oplog_entries` and `sync_oplog_oldest_age_seconds`,
   * read on each scrape (at most once a second). @default none (those gauges are not registered)
   */
  store?: { oplogStats(): Promise<OplogStats> };
  /**
   * The engine's live feed state, read on each scrape for `sync_live_feed_lag_seconds` and
   * `sync_live_feed_behind_commits`, e.g. `() => engine.feedStatus()`. @default none (not registered)
   */
  feed?: () => { behindCommits: number; lagMs: number };
}

/** What `createMetrics` returns: pass `onEvent` to the engine, serve `text()` at `/metrics`. */
export interface SyncMetrics {
  registry: MetricsRegistry;
  /** Takes the engine's events, and the HTTP server's per-IP refusals. */
  onEvent: (event: EngineEvent | IpRateLimitedEvent) => void;
  /** Content type of `text()` (Prometheus text format). */
  contentType: string;
  text(): Promise<string>;
  /** Counts a refused credential (`sync_auth_failures_total{reason}`); `createSyncHttpServer` calls it. */
  authFailure(reason: AuthFailureReason): void;
  /** Counts an error that escaped every handler to the process (`sync_uncaught_errors_total{kind}`); the CLI's process-level net calls it. */
  uncaughtError(kind: 'exception' | 'rejection'): void;
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Changes per push / pull page (limits: 1000 per push, 1000 per pull page by default). */
const SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000];

/**
 * Creates the sync metrics: push/pull/full/conflict/stream counters, latency histograms and a
 * live stream gauge.
 *
 * @example
 * const metrics = createMetrics();
 * const engine = createSyncEngine({ store, schema, onEvent: metrics.onEvent });
 * // GET /metrics → await metrics.text()
 */
export function createMetrics(options: MetricsOptions = {}): SyncMetrics {
  // A caller's registry is a prom-client Registry (the structural type only keeps prom-client out of the .d.ts files).
  const registry = (options.registry as Registry | undefined) ?? new Registry();
  const p = options.prefix ?? 'sync_';
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name: p + name, help, labelNames, registers });
  const histogram = (name: string, help: string, buckets = BUCKETS) =>
    new Histogram({ name: p + name, help, buckets, registers });

  const pushes = counter('push_total', 'Push requests served');
  const changes = counter('push_changes_total', 'Pushed changes by outcome', ['status']);
  const conflicts = counter('conflicts_total', 'Pushed changes resolved against a concurrent edit');
  const pulls = counter('pull_total', 'Pull requests served');
  const pulled = counter('pull_changes_total', 'Changes returned by pulls');
  const fulls = counter('full_total', 'Full-export pages served');
  const exported = counter('full_docs_total', 'Documents returned by full exports');
  const streams = counter('stream_opened_total', 'Live streams opened');
  const overflows = counter(
    'stream_overflow_total',
    'Live streams told to resync because they fell behind',
  );
  const limited = counter(
    'rate_limited_total',
    'Requests refused by a rate limit (kind user: per actor, op push/pull/full/stream; kind ip: per client address, op request/upgrade)',
    ['op', 'kind'],
  );
  const pruned = counter('oplog_pruned_total', 'Oplog entries removed by retention');
  const errors = counter('errors_total', 'Internal errors by place', ['where']);
  if (options.store)
    oplogGauges(options.store, p, registers, () => errors.inc({ where: 'oplog_stats' }));
  if (options.feed) feedGauges(options.feed, p, registers);
  const pushMs = histogram('push_duration_seconds', 'Push latency');
  const pullMs = histogram('pull_duration_seconds', 'Pull latency');
  const fullMs = histogram('full_duration_seconds', 'Full-export page latency');
  const pushSize = histogram('push_batch_size', 'Changes per push request', SIZE_BUCKETS);
  const pullSize = histogram('pull_page_size', 'Changes returned per pull page', SIZE_BUCKETS);
  const authFailures = counter(
    'auth_failures_total',
    'Requests and connections refused for their credentials, by reason (missing, expired, invalid, error)',
    ['reason'],
  );
  for (const reason of ['missing', 'expired', 'invalid', 'error'] as const)
    authFailures.inc({ reason }, 0);
  const live = new Gauge({
    name: p + 'stream_connections',
    help: 'Live streams open now',
    registers,
  });
  const liveByFace = new Gauge({
    name: p + 'live_subscribers',
    help: 'Live subscribers open now by face (sse, ws, trpc; other: faces that do not name themselves)',
    labelNames: ['face'],
    registers,
  });
  const uncaught = counter(
    'uncaught_errors_total',
    'Errors that escaped every handler to the process (kind exception: uncaughtException, rejection: unhandledRejection); the CLI logs each and keeps serving. Should stay 0.',
    ['kind'],
  );
  for (const kind of ['exception', 'rejection'] as const) uncaught.inc({ kind }, 0);
  const slowConsumers = counter(
    'slow_consumers_total',
    'Live subscribers told to resync and closed because they fell behind (reason queue: stream.maxQueue commits; buffer: stream.maxBufferedBytes bytes)',
    ['face', 'reason'],
  );

  function onEvent(event: EngineEvent | IpRateLimitedEvent): void {
    switch (event.type) {
      case 'push':
        pushes.inc();
        changes.inc({ status: 'accepted' }, event.accepted);
        changes.inc({ status: 'conflict_resolved' }, event.conflicts);
        changes.inc({ status: 'rejected' }, event.rejected);
        changes.inc({ status: 'duplicate' }, event.duplicates);
        conflicts.inc(event.conflicts);
        pushSize.observe(event.changes);
        pushMs.observe(event.ms / 1000);
        break;
      case 'pull':
        pulls.inc();
        pulled.inc(event.changes);
        pullSize.observe(event.changes);
        pullMs.observe(event.ms / 1000);
        break;
      case 'full':
        fulls.inc();
        exported.inc(event.docs);
        fullMs.observe(event.ms / 1000);
        break;
      case 'stream_open':
        streams.inc();
        live.inc();
        liveByFace.inc({ face: event.face });
        break;
      case 'stream_close':
        live.dec();
        liveByFace.dec({ face: event.face });
        break;
      case 'stream_overflow':
        overflows.inc();
        slowConsumers.inc({ face: event.face, reason: event.reason });
        break;
      case 'rate_limited':
        limited.inc({ op: event.op, kind: 'user' });
        break;
      case 'ip_rate_limited':
        limited.inc({ op: event.op, kind: 'ip' });
        break;
      case 'prune':
        pruned.inc(event.removed);
        break;
      case 'error':
        errors.inc({ where: event.where });
        break;
    }
  }

  return {
    registry,
    onEvent,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    authFailure: (reason) => authFailures.inc({ reason }),
    uncaughtError: (kind) => uncaught.inc({ kind }),
  };
}

/**
 * `sync_oplog_entries` and `sync_oplog_oldest_age_seconds`, read from the store when scraped. Both
 * gauges share one `oplogStats()` call per second; when the store does not answer they keep their
 * last value and `sync_errors_total{where="oplog_stats"}` counts it (the scrape itself succeeds).
 */
function oplogGauges(
  store: { oplogStats(): Promise<OplogStats> },
  p: string,
  registers: Registry[],
  onError: () => void,
): void {
  let cached: { at: number; stats: Promise<OplogStats | null> } | null = null;
  const stats = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000)
      cached = { at: now, stats: store.oplogStats().catch(() => (onError(), null)) };
    return cached.stats;
  };
  new Gauge({
    name: p + 'oplog_entries',
    help: 'Oplog entries held, all scopes (an estimate on large PostgreSQL tables and on MongoDB)',
    registers,
    async collect() {
      const s = await stats();
      if (s) this.set(s.entries);
    },
  });
  new Gauge({
    name: p + 'oplog_oldest_age_seconds',
    help: 'Age of the oldest oplog entry held (0 when empty): how far back incremental pulls reach',
    registers,
    async collect() {
      const s = await stats();
      if (s) this.set(s.oldestAt ? Math.max(0, (Date.now() - s.oldestAt.getTime()) / 1000) : 0);
    },
  });
}

/** How far this process's live feed trails the commits it knows of (see `/sync/status` `live`). */
function feedGauges(
  feed: () => { behindCommits: number; lagMs: number },
  p: string,
  registers: Registry[],
): void {
  new Gauge({
    name: p + 'live_feed_lag_seconds',
    help: 'How long the live feed has been behind the commits it knows of (0 when caught up)',
    registers,
    collect() {
      this.set(feed().lagMs / 1000);
    },
  });
  new Gauge({
    name: p + 'live_feed_behind_commits',
    help: 'Commits the live feed knows were made but has not delivered yet, all scopes',
    registers,
    collect() {
      this.set(feed().behindCommits);
    },
  });
}
