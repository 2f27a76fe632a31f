/** `createSyncHttpServer()`: one Node http server for tRPC (HTTP, SSE, WebSocket), the REST face and `/metrics`. */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AnyRouter } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import type { Actor } from '../../shared/protocol.js';
import type { Authenticate } from '../auth/authenticate.js';
import type { SyncEngine } from '../engine/types.js';
import type { SyncMetrics } from '../metrics.js';
import { createRestHandler, createRestWebSocketServer, toNodeHandler } from '../rest/index.js';
import { createSyncAppRouter } from '../trpc/app-router.js';
import { createFastapiCompatHandler, createFastapiCompatWebSocketServer } from '../compat/fastapi-offline-sync/index.js';
import { requestToken } from './context.js';
import { createOpsHandler } from './ops.js';
import { logUnexpectedToStderr, requestIdOf, type UnexpectedError } from '../unexpected.js';

/** Where the fastapi-offline-sync wire face is served. */
const COMPAT_BASE = '/compat/fastapi-offline-sync';

/** Options of `createSyncHttpServer`. */
export interface SyncHttpServerOptions {
  engine: SyncEngine<any>;
  /** Turns the caller's token into an actor (see `jwtAuthenticator`). */
  authenticate: Authenticate;
  /** The app router served at `/trpc`. @default `createSyncAppRouter(engine)` (just `sync`) */
  router?: AnyRouter;
  /**
   * Builds the tRPC context from the authenticated request.
   * @default ({ actor, token }) => ({ actor, token })
   */
  createContext?: (opts: { req: IncomingMessage; actor: Actor | null; token: string | null }) => unknown;
  /** Served at `/metrics`. */
  metrics?: SyncMetrics;
  /**
   * Bearer token required by `/metrics` and `/sync/status` (env `SYNC_METRICS_TOKEN` in the CLI).
   * Without it `/metrics` is open and `/sync/status` needs a valid user token. @default none
   */
  metricsToken?: string | null;
  /** WebSocket ping interval for tRPC connections (ms). @default 30000 */
  pingMs?: number;
  /** Answers a request before the REST face (returns true when it did), e.g. `createWebAppHandler()` for `/`. @default none */
  webApp?: (req: IncomingMessage, res: http.ServerResponse) => boolean;
  /**
   * Told of every unexpected (500) failure on every face, with the request id the client was
   * answered; never given the request's token or data. @default one JSON line at level error on stderr
   */
  onError?: (info: UnexpectedError) => void;
}

/** A running or ready-to-run sync server. */
export interface SyncHttpServer {
  server: http.Server;
  /** The tRPC WebSocket server (`noServer`; upgrades of `/trpc` are routed to it). */
  trpcWss: WebSocketServer;
  /** Starts listening (port 0 picks a free one) and answers with the real address. */
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  /** Tells tRPC WebSocket clients to reconnect (before a restart). */
  broadcastReconnectNotification(): void;
  /** Closes every connection and the server (the engine and store stay open: their owner closes them). */
  close(): Promise<void>;
}

/**
 * One http server: `/trpc` (HTTP batch, SSE subscriptions, WebSocket), `WS /sync/stream` and every
 * other path to the REST face, `/metrics` from `metrics`.
 *
 * @example
 * const sync = createSyncHttpServer({ engine, authenticate: jwtAuthenticator({ secret }), metrics });
 * const { url } = await sync.listen(3000, '127.0.0.1');
 */
export function createSyncHttpServer(options: SyncHttpServerOptions): SyncHttpServer {
  const { engine, authenticate, metrics } = options;
  const ops = createOpsHandler({ engine, authenticate, metrics, metricsToken: options.metricsToken });
  const router = options.router ?? createSyncAppRouter(engine);
  const makeContext = options.createContext ?? (({ actor, token }) => ({ actor, token }));
  const context = async (req: IncomingMessage, params: Record<string, string | undefined> | null | undefined) => {
    const token = requestToken(req, params);
    const actor = await Promise.resolve(authenticate(token)).catch(() => null);
    return makeContext({ req, actor, token }) as any;
  };

  const report = options.onError ?? logUnexpectedToStderr;
  const onTrpcError = ({ error, path, type }: { error: { code: string; cause?: unknown }; path?: string; type: string }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') report({ requestId: requestIdOf(error), op: `trpc ${type} ${path ?? '?'}`, error: error.cause ?? error });
  };
  const trpc = createHTTPHandler({ router, basePath: '/trpc/', createContext: ({ req, info }) => context(req, info.connectionParams), onError: onTrpcError, maxBodySize: engine.limits.maxBodyBytes });
  const rest = toNodeHandler(
    createRestHandler({ engine, authenticate, onError: (error, req, requestId) => report({ requestId, op: `${req.method} ${new URL(req.url).pathname}`, error }) }),
  );
  const trpcWss = new WebSocketServer({ noServer: true });
  const wsHandler = applyWSSHandler({
    wss: trpcWss,
    router,
    createContext: ({ req, info }) => context(req, info.connectionParams),
    onError: onTrpcError,
    keepAlive: { enabled: true, pingMs: options.pingMs ?? 30_000, pongWaitMs: 5_000 },
  });
  const restWs = createRestWebSocketServer({ engine, authenticate });
  // The fastapi-offline-sync wire face, for clients of that package (base URL …/compat/fastapi-offline-sync).
  const compat = toNodeHandler(createFastapiCompatHandler({ engine, authenticate, basePath: COMPAT_BASE }));
  const compatWs = createFastapiCompatWebSocketServer({ engine, authenticate, path: `${COMPAT_BASE}/sync/stream` });

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/trpc' || path.startsWith('/trpc/')) return trpc(req, res);
    if (ops(req, res)) return;
    if (path.startsWith(`${COMPAT_BASE}/`)) return void compat(req, res);
    if (options.webApp?.(req, res)) return;
    void rest(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (compatWs.handleUpgrade(req, socket, head)) return;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const wss = path === '/trpc' || path === '/trpc/' ? trpcWss : path === '/sync/stream' ? restWs.wss : null;
    if (!wss) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  return {
    server,
    trpcWss,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          resolve({ port: address.port, host, url: `http://${host}:${address.port}` });
        });
      });
    },
    broadcastReconnectNotification: () => wsHandler.broadcastReconnectNotification(),
    async close() {
      for (const ws of trpcWss.clients) ws.terminate();
      await new Promise<void>((resolve) => trpcWss.close(() => resolve()));
      await restWs.close();
      await compatWs.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // SSE streams and keep-alive sockets would hold close() open
      if (server.listening) await closed;
    },
  };
}
