/** The built-in Node server: tRPC over HTTP, SSE and WebSocket, the REST face and metrics on one port. */
export { createSyncHttpServer, type SyncHttpServer, type SyncHttpServerOptions } from './server.js';
export { bearerToken, requestToken } from './context.js';
export {
  createMetricsServer,
  type MetricsServer,
  type MetricsServerOptions,
} from './metrics-server.js';
export {
  clientAddress,
  createIpRateLimiter,
  type IpRateLimitedEvent,
  type IpRateLimitedOp,
  type IpRateLimiter,
  type IpRateLimitOptions,
} from './ip-rate-limit.js';
export type { RequestBounds } from './request-bounds.js';
export { parseRequestTarget, requestProblem, type RequestProblem } from './request-target.js';
export { answerClientError, DEFAULT_TIMEOUTS, type TransportTimeouts } from './transport-guard.js';
