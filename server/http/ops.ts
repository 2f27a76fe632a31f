/** Operator endpoints: `GET /metrics` (optionally behind a bearer token) and `GET /sync/status`. */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticate } from '../auth/authenticate.js';
import type { SyncEngine } from '../engine/types.js';
import type { SyncMetrics } from '../metrics.js';
import { bearerToken } from './context.js';
import { requestUrl } from './request-target.js';
import { answerUnexpected, logUnexpectedToStderr, type UnexpectedError } from '../unexpected.js';
import { authenticateToken } from '../gateway/auth.js';
import { errorAnswer } from '../gateway/errors.js';
import { SyncError } from '../../shared/errors.js';

/** Options of `createOpsHandler`. */
export interface OpsOptions {
  engine: SyncEngine<any>;
  authenticate: Authenticate;
  /** Served at `/metrics`; without it `/metrics` is left to the next handler. */
  metrics?: SyncMetrics;
  /**
   * Bearer token `/metrics` and `/sync/status` require. Without it, `/metrics` is open and
   * `/sync/status` needs any valid user token. @default none
   */
  metricsToken?: string | null;
  /** How long `/sync/status` waits for the store before answering it unreachable (503). @default 5000 */
  statusTimeoutMs?: number;
  /** Told of an unexpected failure (answered 500 with its request id). @default one JSON line on stderr */
  onError?: (info: UnexpectedError) => void;
}

function packageVersion(): string | null {
  // server/http/ops.ts sits two folders below package.json, dist/server/http/ops.js three.
  for (const path of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'trpc-offline-sync') return pkg.version ?? null;
    } catch {
      // not there: try the next
    }
  }
  return null;
}
const VERSION = packageVersion();
const started = Date.now();

function sameToken(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body));
}

const unauthorized = errorAnswer('UNAUTHORIZED', 'missing or invalid bearer token').body;

/** Whether the request carries the metrics token (constant-time comparison). */
export function hasMetricsToken(req: IncomingMessage, metricsToken: string): boolean {
  return sameToken(bearerToken(req.headers.authorization), metricsToken);
}

/** Answers `GET /metrics`: 401 without the token when one is set, else the Prometheus text (a failing collector: 500 with a request id, told to `onError`). */
export function answerMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: SyncMetrics,
  metricsToken: string | null | undefined,
  onError?: (info: UnexpectedError) => void,
): void {
  if (metricsToken && !hasMetricsToken(req, metricsToken)) return json(res, 401, unauthorized);
  metrics.text().then(
    (text) =>
      void res
        .writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' })
        .end(req.method === 'HEAD' ? undefined : text),
    (error: unknown) => answerUnexpected(res, 'GET /metrics', error, onError),
  );
}

/** Rejects after `ms` (the timer does not keep the process alive). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ms1 = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

/** The `/sync/status` body and its HTTP status (503 when the store does not answer). */
export async function syncStatus(
  engine: SyncEngine<any>,
  timeoutMs = 5000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const t0 = performance.now();
  const store = engine.store;
  const [head, oplog] = await Promise.allSettled([
    // Any scope works: head() only reads (PostgreSQL text cannot hold NUL, hence \u0001).
    within(store.head('\u0001status'), timeoutMs, 'store'),
    within(store.oplogStats(), timeoutMs, 'oplog stats'),
  ]);
  const reachable = head.status === 'fulfilled';
  const storeInfo = reachable
    ? { kind: store.kind, reachable, ms: ms1(t0), epoch: store.epoch() }
    : {
        kind: store.kind,
        reachable,
        ms: ms1(t0),
        error: (head.reason as Error)?.message ?? String(head.reason),
      };
  const stats = oplog.status === 'fulfilled' ? oplog.value : null;
  const feed = engine.feedStatus();
  return {
    status: reachable ? 200 : 503,
    body: {
      ok: reachable,
      version: VERSION,
      uptimeSec: Math.round((Date.now() - started) / 1000),
      store: storeInfo,
      schemaVersion: engine.schema.version ?? null,
      collections: engine.schema.names,
      oplog: stats
        ? {
            entries: stats.entries,
            estimated: stats.estimated,
            // The horizon in time: incremental pulls reach back to here; older checkpoints resync.
            oldestAt: stats.oldestAt?.toISOString() ?? null,
            newestAt: stats.newestAt?.toISOString() ?? null,
            oldestAgeSec: stats.oldestAt
              ? Math.max(0, Math.round((Date.now() - stats.oldestAt.getTime()) / 1000))
              : null,
          }
        : {
            error:
              oplog.status === 'rejected'
                ? ((oplog.reason as Error)?.message ?? String(oplog.reason))
                : 'unknown',
          },
      live: {
        scopes: feed.scopes,
        subscribers: feed.subscribers,
        behindCommits: feed.behindCommits,
        lagMs: feed.lagMs,
        lastDeliveryAt: feed.lastDeliveryAt?.toISOString() ?? null,
      },
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    },
  };
}

/**
 * Returns a handler that answers `GET /metrics` and `GET /sync/status` and returns true, or returns
 * false for any other request. `/sync/health` stays with the REST face (cheap liveness, no store call).
 */
export function createOpsHandler(
  options: OpsOptions,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { engine, metrics, metricsToken } = options;
  /** The gateway's token → actor rule (401, a hook's own SyncError status, a failed hook reported once), or the metrics token. */
  const checkStatusCaller = async (req: IncomingMessage): Promise<void> => {
    if (!metricsToken) {
      await authenticateToken(
        options.authenticate,
        bearerToken(req.headers.authorization),
        options.onError ?? logUnexpectedToStderr,
      );
    } else if (!hasMetricsToken(req, metricsToken)) {
      throw new SyncError('UNAUTHORIZED', unauthorized.error.message);
    }
  };
  return (req, res) => {
    const path = requestUrl(req)?.pathname;
    if (path === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    if (path === '/metrics' && metrics) {
      answerMetrics(req, res, metrics, metricsToken, options.onError);
      return true;
    }
    if (path === '/sync/status') {
      void checkStatusCaller(req)
        .then(async () => {
          const { status, body } = await syncStatus(engine, options.statusTimeoutMs);
          json(res, status, body);
        })
        .catch((error: unknown) =>
          answerUnexpected(res, 'GET /sync/status', error, options.onError),
        );
      return true;
    }
    return false;
  };
}
