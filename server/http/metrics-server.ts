/** `createMetricsServer()`: `/metrics` on a listener of its own (CLI `SYNC_METRICS_PORT`), e.g. bound to 127.0.0.1 for a local scraper. */
import { errorAnswer } from '../gateway/errors.js';
import type http from 'node:http';
import type { SyncMetrics } from '../metrics.js';
import { answerMetrics } from './ops.js';
import { closeServer, listenOn } from './listen.js';
import { answerProblem, requestProblem, requestUrl } from './request-target.js';
import { createGuardedServer, type TransportTimeouts } from './transport-guard.js';
import type { UnexpectedError } from '../unexpected.js';

/** Options of `createMetricsServer` (with the transport timeouts `requestTimeoutMs` and `headersTimeoutMs`). */
export interface MetricsServerOptions extends TransportTimeouts {
  metrics: SyncMetrics;
  /** Bearer token `/metrics` requires (CLI `SYNC_METRICS_TOKEN`). @default none (open) */
  metricsToken?: string | null;
  /** Told of an unexpected failure (answered 500 with its request id). @default one JSON line on stderr */
  onError?: (info: UnexpectedError) => void;
}

/** A metrics-only http server. */
export interface MetricsServer {
  server: http.Server;
  /** Starts listening (port 0 picks a free one). @default host '127.0.0.1' */
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (and `HEAD`) and nothing else: every other path is a JSON 404. Pair it with
 * `createSyncHttpServer({ metrics, serveMetrics: false })` so the public port no longer answers it.
 *
 * @example
 * const ops = createMetricsServer({ metrics });
 * await ops.listen(9464, '127.0.0.1');
 */
export function createMetricsServer(options: MetricsServerOptions): MetricsServer {
  const server = createGuardedServer(options, 'createMetricsServer', (req, res) => {
    const problem = requestProblem(req);
    if (problem) return answerProblem(res, problem);
    const path = requestUrl(req)!.pathname;
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD'))
      return answerMetrics(req, res, options.metrics, options.metricsToken, options.onError);
    const status = path === '/metrics' ? 405 : 404;
    const message =
      status === 405
        ? `${req.method} /metrics: only GET and HEAD`
        : `${path}: this port serves only GET /metrics`;
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(status === 405 ? { allow: 'GET, HEAD' } : {}),
    });
    res.end(
      JSON.stringify(
        errorAnswer(status === 405 ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', message).body,
      ),
    );
  });
  return {
    server,
    listen: (port?: number, host?: string) => listenOn(server, port, host),
    close: () => closeServer(server),
  };
}
