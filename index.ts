/**
 * `trpc-offline-sync`: the shared protocol, imported by servers and clients alike. Nothing here
 * touches Node, a database or tRPC.
 */
export { defineSyncSchema, RESERVED_PREFIX, type SyncSchema, type SyncSchemaOptions, type ChangeMeta, type CollectionSchemas, type DocOf, type PatchOf, type TypedChange, type TypedPushInput } from './shared/schema.js';
export { HlcClock, compareHlc, formatHlc, isHlc, parseHlc, type HlcClockOptions, type HlcParts } from './shared/hlc.js';
export { SyncError, ERROR_STATUS, REJECTION_CODES, type SyncErrorCode, type ErrorAnswerCode, type RejectionCode, type SyncIssue, type ErrorBody } from './shared/errors.js';
export {
  pushInput,
  pushResponse,
  pushResult,
  pullInput,
  pullResponse,
  fullInput,
  fullPage,
  fullDoc,
  streamInput,
  streamEvent,
  changeInput,
  changeOut,
  errorBody,
  type Actor,
  type ChangeInput,
  type ChangeOp,
  type ChangeOut,
  type FullDoc,
  type FullInput,
  type FullPage,
  type PullInput,
  viewRequest,
  type ViewRequestInput,
  type PullResponse,
  type PushInput,
  type PushResponse,
  type PushResult,
  type PushStatus,
  type StreamEvent,
  type StreamInput,
} from './shared/protocol.js';
