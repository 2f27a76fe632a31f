/**
 * `trpc-offline-sync/engine`: the sync engine, the store contract and the in-memory store. No
 * transport, no database driver: the faces (`./trpc`, `./rest`, `./node`, `./compat`) and the
 * stores (`./postgres`, `./mongodb`) are entries of their own.
 */
export { createSyncEngine } from '../engine/engine.js';
export type {
  SyncEngine,
  SyncEngineOptions,
  SyncLimits,
  StreamOptions,
  StreamWatch,
  RetentionOptions,
  DeletePolicy,
  Resolver,
  ResolverArgs,
  Authorize,
  EngineEvent,
  PushOptions,
  ForwardedTransportLimits,
  ReadOptions,
  ServerChange,
} from '../engine/types.js';
export type { LiveFeedStatus } from '../engine/feed.js';
export { DEFAULT_LIMITS, DEFAULT_RETENTION, DEFAULT_STREAM } from '../engine/options.js';
export type { RateLimitOptions, RateLimitedOp } from '../engine/rate-limit.js';
export type { AuthorizeCollection, CollectionOp } from '../engine/read-auth.js';
export type {
  Store,
  StoreTx,
  StoredDoc,
  OplogEntry,
  OplogStats,
  RecordedOutcome,
  ScopeHead,
  StoreEvent,
  DocKey,
  MutationRecord,
  ReadOplogOptions,
  ScanDocsOptions,
  ClientLedger,
  CollectionChecksum,
} from '../stores/store.js';
export type { ChecksumReport, ChecksumVerdict } from '../engine/checksums.js';
export { memoryStore, type MemoryStore, type ScopeData } from '../stores/memory.js';
export type { Authenticate } from '../auth/authenticate.js';
export type { UnexpectedError } from '../unexpected.js';
export { SyncError } from '../../shared/errors.js';
export type { Actor } from '../../shared/protocol.js';
/** Read rules and views (docs/authorization.md). */
export {
  defineSyncRules,
  writerRules,
  WRITER_FIELD,
  type SyncRule,
  type SyncRules,
  type Filter as RuleFilter,
  type Scalar,
  type RuleContext,
  type ViewRequest,
  type DefaultViews,
} from '../engine/rules.js';
export type { DocMatch, MatchValue, IndexSpec } from '../stores/store.js';
