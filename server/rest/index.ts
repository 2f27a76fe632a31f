/** The REST + SSE + WebSocket face of the sync engine, with its OpenAPI 3.1 document. Public names, one by one. */
export { createRestHandler, type RestHandler, type RestHandlerOptions } from './handler.js';
export { toNodeHandler, type NodeHandler, type NodeHandlerOptions } from './node.js';
export {
  createRestWebSocketServer,
  type RestWebSocketOptions,
  type RestWebSocketServer,
} from './websocket.js';
export { createOpenApiDocument, type OpenApiOptions } from './openapi.js';
export type { RestErrorBody, RestErrorCode } from './errors.js';
export type { CorsOrigin } from './cors.js';
