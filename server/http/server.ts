/** `createSyncHttpServer()`: one Node http server for tRPC (HTTP, SSE, WebSocket), the REST face and `/metrics`. */
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AnyRouter } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import type { WsServer } from '../ws-types.js';
import type { Actor } from '../../shared/protocol.js';
import type { Authenticate } from '../auth/authenticate.js';
import { checkedAuthenticate } from '../auth/actor.js';
import { countAuthFailures } from '../auth/count-failures.js';
import type { SyncEngine } from '../engine/types.js';
import type { SyncMetrics } from '../metrics.js';
import { createRestHandler, createRestWebSocketServer, toNodeHandler } from '../rest/index.js';
import { answerResponse } from '../gateway/errors.js';
import { createSyncGateway, type SyncGateway } from '../gateway/gateway.js';
import type { TransportLimits } from '../gateway/limits.js';
import { withGateway } from '../trpc/gateway-context.js';
import { createSyncAppRouter } from '../trpc/app-router.js';
import {
  createFastapiCompatHandler,
  createFastapiCompatWebSocketServer,
  type CompatVisibility,
} from '../compat/fastapi-offline-sync/index.js';
import { requestToken } from './context.js';
import { createOpsHandler } from './ops.js';
import { withLiveConnection } from '../live/transports.js';
import {
  createIpRateLimiter,
  refuseUpgrade,
  type IpRateLimitedEvent,
  type IpRateLimitOptions,
} from './ip-rate-limit.js';
import { urlLimitResponse } from '../rest/params.js';
import { syncErrorOf, toTRPCError } from '../trpc/errors.js';
import type { UnexpectedError } from '../unexpected.js';
import { closeServer, listenOn } from './listen.js';
import {
  batchTooLarge,
  closeUnauthenticated,
  isWebSocketFrameError,
  RAW_WS_MAX_PAYLOAD,
  resolveRequestBounds,
  type RequestBounds,
} from './request-bounds.js';
import { withResponseBudget } from '../trpc/response-budget.js';
import {
  answerProblem,
  refuseUpgradeProblem,
  requestProblem,
  requestUrl,
} from './request-target.js';
import { createGuardedServer, type TransportTimeouts } from './transport-guard.js';
import { applyCors } from './cors.js';
import type { CorsOrigin } from '../rest/cors.js';

/** Where the fastapi-offline-sync wire face is served. */
const COMPAT_BASE = '/compat/fastapi-offline-sync';

/** Options of `createSyncHttpServer` (with the transport timeouts `requestTimeoutMs` and `headersTimeoutMs`). */
export interface SyncHttpServerOptions extends TransportTimeouts, RequestBounds {
  engine: SyncEngine<any>;
  /** Turns the caller's token into an actor (see `jwtAuthenticator`). */
  authenticate: Authenticate;
  /** The app router served at `/trpc`. @default `createSyncAppRouter(engine)` (just `sync`) */
  router?: AnyRouter;
  /**
   * Builds the tRPC context from the authenticated request.
   * @default ({ actor, token }) => ({ actor, token })
   */
  createContext?: (opts: {
    req: IncomingMessage;
    actor: Actor | null;
    token: string | null;
  }) => unknown;
  /** Served at `/metrics`; also counts refused credentials (`sync_auth_failures_total`). */
  metrics?: SyncMetrics;
  /**
   * Whether this server answers `/metrics` itself. Turn off when `createMetricsServer()` serves it
   * on a port of its own (CLI `SYNC_METRICS_PORT`). @default true
   */
  serveMetrics?: boolean;
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
  /**
   * Per-IP request limit (token bucket per client address, an IPv6 /64 counting as one): every
   * HTTP request and WebSocket upgrade on every face takes one token before anything is read,
   * authenticated or not (so token guessing is bounded too). Over it: 429 `TOO_MANY_REQUESTS`
   * with `Retry-After` (tRPC: the same with `data.sync.retryAfterMs`); refused upgrades get an
   * HTTP 429 before the handshake. Next to the engine's per-user `rateLimit`. CLI `SYNC_RATE_LIMIT_IP`. @default no limit
   * @example ipRateLimit: { requests: 1200, windowMs: 60_000 }
   */
  ipRateLimit?: IpRateLimitOptions;
  /**
   * Proxies in front of this server whose `X-Forwarded-For` is trusted for the per-IP limit
   * (`true` = 1): the client is the entry that many from the right. Leave it off when clients
   * reach the server directly, or they can forge the header. CLI `SYNC_TRUST_PROXY`. @default 0 (the socket's address)
   */
  trustProxy?: number | boolean;
  /** Told of every per-IP refusal (for logs); `metrics` counts them as `sync_rate_limited_total{kind="ip"}`. @default none */
  onEvent?: (event: IpRateLimitedEvent) => void;
  /**
   * CORS for browser apps on other origins, on every path (tRPC, REST, compat, ops): `true` any
   * origin (`*`), or a list / predicate of origins. Preflights are answered with 204. CLI
   * `SYNC_CORS_ORIGINS`. @default off (no CORS headers; browsers refuse cross-origin calls)
   */
  cors?: CorsOrigin;
  /**
   * Transport limits of every face this server hosts (body, URL, query, live caps, slow-consumer
   * bounds; docs/limits.md). Each one not given falls back to the value the engine was given under
   * its old option name, then to its default. CLI `SYNC_MAX_*`. @default `DEFAULT_TRANSPORT_LIMITS`
   */
  limits?: Partial<TransportLimits>;
  /**
   * What each user sees on the fastapi-offline-sync face: `user` serves only the documents the user
   * last wrote, through the engine's `writer` rules (`writerRules(schema)`). CLI
   * `SYNC_COMPAT_VISIBILITY`. @default 'all'
   */
  compatVisibility?: CompatVisibility;
}

/** A running or ready-to-run sync server. */
export interface SyncHttpServer {
  server: http.Server;
  /** The tRPC WebSocket server (`noServer`; upgrades of `/trpc` are routed to it). */
  trpcWss: WsServer;
  /** Starts listening (port 0 picks a free one) and answers with the real address. */
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  /** The gateway under every face of this server (its limits, live caps and error reporting). */
  gateway: SyncGateway;
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
  const { engine, metrics } = options;
  // Wrapped once here, so every face (tRPC, REST, WebSocket, compat, /sync/status) counts each refusal once
  // and refuses an actor with malformed claims (checkActor) whatever hook the app gave.
  const checked = checkedAuthenticate(options.authenticate);
  const authenticate = metrics ? countAuthFailures(checked, metrics.authFailure) : checked;
  const report = options.onError;
  const gateway = createSyncGateway({
    engine,
    authenticate,
    onError: report,
    limits: options.limits,
    who: 'createSyncHttpServer',
  });
  const ops = createOpsHandler({
    engine,
    authenticate,
    metrics: options.serveMetrics === false ? undefined : metrics,
    metricsToken: options.metricsToken,
    onError: options.onError,
  });
  const router = options.router ?? createSyncAppRouter(engine);
  const makeContext = options.createContext ?? (({ actor, token }) => ({ actor, token }));
  const bounds = resolveRequestBounds(options, gateway.limits, 'createSyncHttpServer');
  const trustProxy = options.trustProxy === true ? 1 : options.trustProxy || 0;
  if (!Number.isInteger(trustProxy) || trustProxy < 0)
    throw new Error(
      `createSyncHttpServer: trustProxy must be a boolean or a non-negative integer, got ${String(options.trustProxy)}`,
    );
  const ipLimiter = options.ipRateLimit
    ? createIpRateLimiter({
        ...options.ipRateLimit,
        trustProxy,
        onLimited: (event) => {
          metrics?.onEvent(event);
          options.onEvent?.(event);
        },
      })
    : null;
  /** tRPC HTTP requests refused by the per-IP limit: tRPC itself answers them (createContext throws), in its own error shape. */
  const ipRefused = new WeakMap<IncomingMessage, number>();
  /** tRPC HTTP batches over `maxBatchCalls`: refused the same way, before any call runs. */
  const batchRefused = new WeakMap<
    IncomingMessage,
    NonNullable<ReturnType<typeof batchTooLarge>>
  >();
  const context = async (
    req: IncomingMessage,
    params: Record<string, string | undefined> | null | undefined,
    res: unknown,
  ) => {
    const waitMs = ipRefused.get(req);
    if (waitMs !== undefined) throw toTRPCError(ipLimiter!.error(waitMs));
    const tooMany = batchRefused.get(req);
    if (tooMany) throw toTRPCError(tooMany);
    const token = requestToken(req, params);
    // The gateway's rule: a refusal leaves no actor (sync calls answer 401); a hook's own
    // SyncError (e.g. FORBIDDEN) answers with its status, as on every other face.
    let actor: Actor | null;
    try {
      actor = await gateway.optionalActor(token);
    } catch (error) {
      throw toTRPCError(error);
    }
    if (actor) sockets.authenticated(res); // a tRPC WebSocket that authenticated keeps its connection
    // The connection rides along so `sync.stream` can bound what it holds for a slow peer, and the
    // gateway so every face counts the same live caps. Its answers run within `maxResponseBytes`.
    const ctx = withGateway(
      withLiveConnection(await makeContext({ req, actor, token }), res),
      gateway,
    );
    return withResponseBudget(ctx, res, bounds.maxResponseBytes) as any;
  };

  const onTrpcError = ({
    error,
    path,
    type,
  }: {
    error: { code: string; cause?: unknown };
    path?: string;
    type: string;
  }) => {
    // The id is the TRPCError's (the one `syncErrorFormatter` answers); the report names its cause.
    if (error.code === 'INTERNAL_SERVER_ERROR' && !isWebSocketFrameError(error))
      gateway.report(`trpc ${type} ${path ?? '?'}`, error, error.cause ?? error);
  };
  const trpc = createHTTPHandler({
    router,
    basePath: '/trpc/',
    createContext: ({ req, res, info }) => context(req, info.connectionParams, res),
    onError: onTrpcError,
    maxBodySize: gateway.limits.maxBodyBytes,
    responseMeta: retryAfterMeta,
  });
  const rest = toNodeHandler(createRestHandler({ engine, authenticate, gateway }), {
    onError: gateway.onError,
  });
  // Frames over the bound are refused by their header (close 1009), before anything is buffered or parsed.
  const trpcWss = new WebSocketServer({ noServer: true, maxPayload: bounds.wsMaxPayloadBytes });
  const sockets = closeUnauthenticated(trpcWss, bounds.wsAuthTimeoutMs); // listens before tRPC's handler
  const wsHandler = applyWSSHandler({
    wss: trpcWss,
    router,
    createContext: ({ req, res, info }) => context(req, info.connectionParams, res),
    onError: onTrpcError,
    maxBatchSize: bounds.maxBatchCalls,
    keepAlive: { enabled: true, pingMs: options.pingMs ?? 30_000, pongWaitMs: 5_000 },
  });
  const rawWs = {
    maxPayloadBytes: Math.min(RAW_WS_MAX_PAYLOAD, bounds.wsMaxPayloadBytes),
    subscribeTimeoutMs: bounds.wsAuthTimeoutMs || undefined,
  };
  const restWs = createRestWebSocketServer({ engine, authenticate, gateway, ...rawWs });
  // The fastapi-offline-sync wire face, for clients of that package (base URL …/compat/fastapi-offline-sync).
  const compat = toNodeHandler(
    createFastapiCompatHandler({
      engine,
      authenticate,
      gateway,
      basePath: COMPAT_BASE,
      visibility: options.compatVisibility,
    }),
    {
      onError: gateway.onError,
    },
  );
  const compatWs = createFastapiCompatWebSocketServer({
    engine,
    authenticate,
    gateway,
    ...rawWs,
    path: `${COMPAT_BASE}/sync/stream`,
    visibility: options.compatVisibility,
  });

  const server = createGuardedServer(options, 'createSyncHttpServer', (req, res) => {
    // Before anything else reads the request: the per-IP limit (every request counts), then the target, Host and method, then the URL's size.
    const waitMs = ipLimiter?.take(req, 'request') ?? 0;
    const problem = requestProblem(req);
    if (problem) return answerProblem(res, problem);
    if (applyCors(req, res, options.cors)) return; // a preflight, answered; else the CORS headers are set for any face
    const tooLong = urlLimitResponse(req.url ?? '/', gateway);
    const path = requestUrl(req)!.pathname;
    // The compat face's clients read FastAPI's `detail` beside the usual `error` object.
    const detail = path.startsWith(`${COMPAT_BASE}/`);
    if (tooLong && (tooLong.status === 414 || !isTrpcPath(req.url)))
      return void sendResponse(res, tooLong, hasBody(req), detail);
    if (waitMs > 0) {
      if (isTrpcPath(path)) {
        ipRefused.set(req, waitMs);
        if (hasBody(req)) res.setHeader('connection', 'close'); // tRPC never reads the body of a refused call
      } else
        return void sendResponse(
          res,
          answerResponse(gateway.answer(ipLimiter!.error(waitMs), path)),
          hasBody(req),
          detail,
        );
    }
    if (path === '/trpc' || path.startsWith('/trpc/')) {
      const tooMany = batchTooLarge(req.url ?? '/', bounds.maxBatchCalls);
      if (tooMany) {
        batchRefused.set(req, tooMany);
        if (hasBody(req)) res.setHeader('connection', 'close'); // tRPC never reads the body of a refused batch
      }
      return trpc(req, res);
    }
    if (ops(req, res)) return;
    if (path.startsWith(`${COMPAT_BASE}/`)) return void compat(req, res);
    if (options.webApp?.(req, res)) return;
    void rest(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const waitMs = ipLimiter?.take(req, 'upgrade') ?? 0;
    if (waitMs > 0) {
      const answer = gateway.answer(ipLimiter!.error(waitMs), 'upgrade');
      return void refuseUpgrade(socket, 429, 'Too Many Requests', answer.body, {
        'retry-after': String(Math.ceil(waitMs / 1000)),
      });
    }
    const problem = requestProblem(req);
    if (problem) return refuseUpgradeProblem(socket, problem);
    const tooLong = gateway.checkTarget(req.url ?? '/');
    if (tooLong?.status === 414)
      return void refuseUpgrade(socket, 414, 'URI Too Long', tooLong.body);
    if (compatWs.handleUpgrade(req, socket, head)) return;
    const path = requestUrl(req)!.pathname;
    const wss =
      path === '/trpc' || path === '/trpc/' ? trpcWss : path === '/sync/stream' ? restWs.wss : null;
    if (!wss) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined); // a broken frame closes this socket (ws answers 1002), never the process
      try {
        wss.emit('connection', ws, req);
      } catch (error) {
        gateway.report(`ws ${path}`, error);
        ws.terminate();
      }
    });
  });

  return {
    server,
    trpcWss,
    gateway,
    listen: (port?: number, host?: string) => listenOn(server, port, host),
    broadcastReconnectNotification: () => wsHandler.broadcastReconnectNotification(),
    async close() {
      for (const ws of trpcWss.clients) ws.terminate();
      await new Promise<void>((resolve) => trpcWss.close(() => resolve()));
      await restWs.close();
      await compatWs.close();
      await closeServer(server);
    },
  };
}

const isTrpcPath = (target: string | undefined) => /^\/trpc(\/|\?|$)/.test(target ?? '');

/** Whether a request carries a body (then a refusal closes the connection rather than read the rest). */
const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';

/** Writes a small, fully built JSON error response (answered before any face runs); `detail` adds FastAPI's `detail` string for the compat face. */
async function sendResponse(
  res: http.ServerResponse,
  response: Response,
  close: boolean,
  detail: boolean,
): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  if (close) headers.connection = 'close';
  let text = await response.text();
  if (detail) {
    const body = JSON.parse(text) as { error: { message: string } };
    text = JSON.stringify({ detail: body.error.message, ...body });
  }
  delete headers['content-length'];
  res.writeHead(response.status, headers).end(text);
}

/** tRPC answers carry `Retry-After` when a rate limit (per IP or per user) refused a call. */
function retryAfterMeta({ errors }: { errors: unknown[] }): { headers?: Record<string, string> } {
  const waits = errors
    .map((e) => syncErrorOf(e)?.retryAfterMs)
    .filter((ms): ms is number => ms !== undefined);
  return waits.length > 0
    ? { headers: { 'retry-after': String(Math.max(1, Math.ceil(Math.max(...waits) / 1000))) } }
    : {};
}
