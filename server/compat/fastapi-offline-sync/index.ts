/** The fastapi-offline-sync wire face (REST + WebSocket) over the sync engine. Public names, one by one. */
export { createFastapiCompatHandler, type FastapiCompatHandlerOptions } from './handler.js';
export {
  createFastapiCompatWebSocketServer,
  type FastapiCompatWebSocketOptions,
  type FastapiCompatWebSocketServer,
} from './websocket.js';
export { createFastapiCompatOpenApi, type FastapiCompatOpenApiOptions } from './openapi.js';
export type { CompatVisibility } from './visibility.js';
