/**
 * `trpc-offline-sync/node`: the Node parts: the one-port server (tRPC over HTTP, SSE and
 * WebSocket, REST, compat, ops), the Node adapter of the REST face, the raw WebSocket face, live
 * connection bounds, JWT authentication and logging. Needs the optional peers `ws` and `jose`.
 */
export {
  createSyncHttpServer,
  createMetricsServer,
  clientAddress,
  createIpRateLimiter,
  parseRequestTarget,
  answerClientError,
  DEFAULT_TIMEOUTS,
  type SyncHttpServer,
  type SyncHttpServerOptions,
  type MetricsServer,
  type MetricsServerOptions,
  type IpRateLimitedEvent,
  type IpRateLimitedOp,
  type IpRateLimiter,
  type IpRateLimitOptions,
  type RequestBounds,
  type TransportTimeouts,
} from '../http/index.js';
export { createWebAppHandler, type WebAppOptions, type WebAppHandler } from '../http/web-app.js';
export { createOpsHandler, type OpsOptions } from '../http/ops.js';
export { toNodeHandler, type NodeHandler, type NodeHandlerOptions } from '../rest/node.js';
export {
  createRestWebSocketServer,
  type RestWebSocketOptions,
  type RestWebSocketServer,
} from '../rest/websocket.js';
export {
  withLiveConnection,
  openLiveStream,
  SLOW_CONSUMER_CLOSE_CODE,
  type LiveStream,
  type LiveStreamOptions,
  type LiveTransport,
} from '../live/index.js';
export { countAuthFailures, type AuthFailureReason } from '../auth/count-failures.js';
export {
  jwtAuthenticator,
  signDevToken,
  type JwtAuthenticatorOptions,
  type DevTokenOptions,
} from '../auth/jwt.js';
export type { WsServer, WsSocket } from '../ws-types.js';
export { createEventLogger, parseLogLevel, type LogLevel } from '../logging.js';
