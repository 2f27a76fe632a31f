/**
 * `trpc-offline-sync/gateway`: the face-neutral core every face runs over (token → actor, the
 * schema-version gate, rate limits, transport limits and live caps, one error table with request
 * ids reported once; docs/server.md). No `node:` import: usable from any Fetch-API runtime.
 */
export {
  createSyncGateway,
  DEFAULT_TRANSPORT_LIMITS,
  type ErrorBody,
  type ErrorAnswer,
  type LiveConnections,
  type GatewayErrorCode,
  type OnUnexpectedError,
  type SyncGateway,
  type SyncGatewayOptions,
  type TransportLimits,
  type UnexpectedError,
} from '../gateway/index.js';
/** The `onError` of the Fetch-API faces (REST, compat): `(info, req)`; see docs/server.md. */
export type { RequestOnError } from '../gateway/on-error.js';
/** The request id a 500 answer carries, for an app's own tRPC `onError` (docs/limits.md). */
export { requestIdOf } from '../gateway/request-id.js';
