/** Operator endpoints: `GET /metrics` (optionally behind a bearer token) and `GET /sync/status`. */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticate } from '../auth/authenticate.js';
import type { SyncEngine } from '../engine/types.js';
import type { SyncMetrics } from '../metrics.js';
import { bearerToken } from './context.js';

/** Options of `createOpsHandler`. */
export interface OpsOptions {
  engine: SyncEngine<any>;
  authenticate: Authenticate;
  metrics?: SyncMetrics;
  /**
   * Bearer token `/metrics` and `/sync/status` require. Without it, `/metrics` is open and
   * `/sync/status` needs any valid user token. @default none
   */
  metricsToken?: string | null;
}

function packageVersion(): string | null {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
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
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

const unauthorized = { error: { code: 'UNAUTHORIZED', message: 'missing or invalid bearer token', issues: [] } };

/**
 * Returns a handler that answers `GET /metrics` and `GET /sync/status` and returns true, or returns
 * false for any other request. `/sync/health` stays with the REST face (cheap liveness, no store call).
 */
export function createOpsHandler(options: OpsOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { engine, metrics, metricsToken } = options;
  const allowed = async (req: IncomingMessage, userTokenAllowed: boolean) => {
    const token = bearerToken(req.headers.authorization);
    if (metricsToken) return sameToken(token, metricsToken);
    if (!userTokenAllowed) return true;
    return Boolean(await Promise.resolve(options.authenticate(token)).catch(() => null));
  };
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/metrics' && metrics) {
      void allowed(req, false).then(async (ok) => {
        if (!ok) return json(res, 401, unauthorized);
        res.writeHead(200, { 'content-type': metrics.contentType }).end(await metrics.text());
      });
      return true;
    }
    if (path === '/sync/status') {
      void allowed(req, true).then(async (ok) => {
        if (!ok) return json(res, 401, unauthorized);
        const t0 = performance.now();
        let store: { reachable: boolean; ms: number; error?: string; epoch?: string };
        try {
          await engine.store.head('\u0000status');
          store = { reachable: true, ms: Math.round((performance.now() - t0) * 10) / 10, epoch: engine.store.epoch() };
        } catch (error) {
          store = { reachable: false, ms: Math.round(performance.now() - t0), error: (error as Error).message };
        }
        json(res, store.reachable ? 200 : 503, {
          ok: store.reachable,
          version: VERSION,
          uptimeSec: Math.round((Date.now() - started) / 1000),
          store,
          collections: engine.schema.names,
          rssMb: Math.round(process.memoryUsage().rss / 1048576),
        });
      });
      return true;
    }
    return false;
  };
}
