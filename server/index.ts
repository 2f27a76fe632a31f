/**
 * `trpc-offline-sync/server`: the engine, the in-memory store, the tRPC router factory, the REST
 * face, auth, metrics and the one-port Node server. The SQL store is `trpc-offline-sync/postgres`
 * and the MongoDB store `trpc-offline-sync/mongodb`, so apps load only the driver they use.
 */
export { createSyncEngine } from './engine/engine.js';
export type {
  SyncEngine,
  SyncEngineOptions,
  SyncLimits,
  StreamOptions,
  StreamWatch,
  ReadOptions,
  RetentionOptions,
  DeletePolicy,
  Resolver,
  ResolverArgs,
  Authorize,
  EngineEvent,
  ServerChange,
} from './engine/types.js';
export { DEFAULT_LIMITS, DEFAULT_RETENTION, DEFAULT_STREAM } from './engine/options.js';
export type { RateLimitOptions, RateLimitedOp } from './engine/rate-limit.js';
export { clientAddress, createIpRateLimiter, type IpRateLimitedEvent, type IpRateLimitOptions } from './http/ip-rate-limit.js';
export type { AuthorizeCollection, CollectionOp } from './engine/read-auth.js';
export { defineSyncRules, writerRules, WRITER_FIELD, type SyncRule, type SyncRules, type Filter, type Scalar, type RuleContext, type ViewRequest, type DefaultViews } from './engine/rules.js';
export type { Store, StoreTx, StoredDoc, OplogEntry, ScopeHead, StoreEvent, DocKey, MutationRecord, ReadOplogOptions, ScanDocsOptions, DocMatch, MatchValue, IndexSpec } from './stores/store.js';
export { memoryStore, type MemoryStore } from './stores/memory.js';
export { createSyncRouter, createSyncAppRouter, syncErrorFormatter, syncTransformer, toTRPCError, type SyncRouterOptions, type SyncRouterRecord, type SyncAppRouter, type SyncContext, type SyncErrorData } from './trpc/index.js';
export { createRestHandler, toNodeHandler, createRestWebSocketServer, createOpenApiDocument, type RestHandler, type RestHandlerOptions, type RestWebSocketServer, type NodeHandlerOptions } from './rest/index.js';
export { createFastapiCompatHandler, createFastapiCompatWebSocketServer, createFastapiCompatOpenApi, type FastapiCompatHandlerOptions, type FastapiCompatWebSocketOptions, type FastapiCompatWebSocketServer, type CompatVisibility } from './compat/fastapi-offline-sync/index.js';
export { withLiveConnection, openLiveStream, SLOW_CONSUMER_CLOSE_CODE, type LiveStream, type LiveStreamOptions, type LiveTransport } from './live/index.js';
export { createSyncHttpServer, createMetricsServer, type SyncHttpServer, type SyncHttpServerOptions, type MetricsServer, type MetricsServerOptions } from './http/index.js';
/** The one-port server's web app at `/` and its ops endpoints (`/metrics`, `/sync/status`), for apps with their own Node server. */
export { createWebAppHandler, type WebAppOptions, type WebAppHandler } from './http/web-app.js';
export { createOpsHandler, type OpsOptions } from './http/ops.js';
/** The request id a 500 answer carries, for an app's own tRPC `onError` (docs/limits.md). */
export { requestIdOf } from './unexpected.js';
/** Request and socket bounds of `createSyncHttpServer`, and the per-request answer budget for apps with their own tRPC server (docs/limits.md). */
export { withResponseBudget } from './trpc/index.js';
export type { RequestBounds } from './http/index.js';
/** Malformed requests and slow clients on any listener: the request-target parser, the `clientError` answer and the transport timeouts (docs/limits.md). */
export { parseRequestTarget, answerClientError, DEFAULT_TIMEOUTS, type TransportTimeouts } from './http/index.js';
export type { Authenticate } from './auth/authenticate.js';
export { countAuthFailures, type AuthFailureReason } from './auth/count-failures.js';
export { jwtAuthenticator, signDevToken, type JwtAuthenticatorOptions, type DevTokenOptions } from './auth/jwt.js';
export { createMetrics, type SyncMetrics, type MetricsOptions } from './metrics.js';
export { createEventLogger, parseLogLevel, type LogLevel } from './logging.js';
export { SyncError } from '../shared/errors.js';
export type { Actor } from '../shared/protocol.js';
