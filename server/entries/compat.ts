/**
 * `trpc-offline-sync/compat`: the fastapi-offline-sync wire face (REST + WebSocket) over the sync
 * engine, so that project's clients sync unchanged. Its WebSocket needs the optional peer `ws`.
 */
export {
  createFastapiCompatHandler,
  createFastapiCompatWebSocketServer,
  createFastapiCompatOpenApi,
  type FastapiCompatHandlerOptions,
  type FastapiCompatWebSocketOptions,
  type FastapiCompatWebSocketServer,
  type CompatVisibility,
  type FastapiCompatOpenApiOptions,
} from '../compat/fastapi-offline-sync/index.js';
