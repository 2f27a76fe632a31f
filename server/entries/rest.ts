/**
 * `trpc-offline-sync/rest`: the REST + SSE face as a Fetch-API handler (`Request` in, `Response`
 * out) and its OpenAPI 3.1 document. Nothing here imports `node:`, so it runs on Deno, Bun, edge
 * and worker runtimes; the Node adapter and the raw WebSocket face are in `trpc-offline-sync/node`.
 */
export { createRestHandler, type RestHandler, type RestHandlerOptions } from '../rest/handler.js';
export {
  createOpenApiDocument,
  type OpenApiOptions,
  type OpenApiDocument,
} from '../rest/openapi.js';
export type { Authenticate } from '../auth/authenticate.js';
export type { RestErrorBody, RestErrorCode } from '../rest/errors.js';
export type { CorsOrigin } from '../rest/cors.js';
