/** The tRPC face: the sync router factory, its error mapping and the error formatter. */
export {
  createSyncRouter,
  type SyncRouterOptions,
  type SyncRouterRecord,
  type SyncProcedureDef,
} from './router.js';
export {
  syncErrorFormatter,
  toTRPCError,
  syncErrorOf,
  TRPC_CODE,
  type SyncErrorData,
} from './errors.js';
export type {
  EngineFor,
  PushInputOf,
  SyncChangeOf,
  SyncChangeOutOf,
  SyncFullDocOf,
  SyncInputs,
  SyncOutputs,
  ViewField,
  ChangeOutMeta,
  CollectionsOf,
  InputOf,
  OutputOf,
} from './inputs.js';
export { createSyncAppRouter, type SyncAppRouter, type SyncContext } from './app-router.js';
export { syncTransformer } from './transformer.js';
export { withResponseBudget } from './response-budget.js';
export { withGateway } from './gateway-context.js';
