/**
 * `trpc-offline-sync/trpc`: the tRPC face: the sync router factory, the ready app router, the
 * shipped transformer and the error formatter. Runs wherever `@trpc/server` runs.
 */
export {
  createSyncRouter,
  createSyncAppRouter,
  syncErrorFormatter,
  syncTransformer,
  toTRPCError,
  withResponseBudget,
  type SyncRouterOptions,
  type SyncRouterRecord,
  type SyncAppRouter,
  type SyncContext,
  type SyncErrorData,
  type EngineFor,
  type PushInputOf,
  type SyncChangeOf,
  type SyncChangeOutOf,
  type SyncFullDocOf,
  type SyncInputs,
  type ViewField,
  type SyncOutputs,
  type SyncProcedureDef,
  type ChangeOutMeta,
  type CollectionsOf,
  type InputOf,
  type OutputOf,
} from '../trpc/index.js';
/** Marks an app's own tRPC context with a gateway, so `sync.stream` shares its live caps and `onError` (docs/server.md). */
export { withGateway } from '../trpc/index.js';
