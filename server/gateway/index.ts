/** The gateway: the face-neutral core under every face (no `node:` imports, no Node http types). */
export { createSyncGateway, type SyncGateway, type SyncGatewayOptions } from './gateway.js';
export { authenticateToken, bearerToken, optionalActor } from './auth.js';
export {
  answerError,
  answerResponse,
  closeCodeFor,
  errorAnswer,
  jsonResponse,
  statusOf,
  type ErrorAnswer,
  type ErrorBody,
  type GatewayErrorCode,
} from './errors.js';
export { createLiveConnections, type LiveConnections } from './live-caps.js';
export {
  DEFAULT_TRANSPORT_LIMITS,
  resolveTransportLimits,
  type TransportLimits,
} from './limits.js';
export {
  describeError,
  logUnexpectedToStderr,
  newRequestId,
  reportOnce,
  requestIdOf,
  type OnUnexpectedError,
  type UnexpectedError,
} from './request-id.js';
export { createRouter, type RouteMatch, type RouteTable } from './router.js';
