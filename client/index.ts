/**
 * `trpc-offline-sync/client`: offline collections, an outbox and live sync over the app's own tRPC
 * client. Browser and React Native safe: nothing here imports Node, a database driver or the server.
 * The durable local stores are entries of their own, so a bundle holds only the one it uses:
 * `trpc-offline-sync/client/indexeddb`, `trpc-offline-sync/client/sqlite`,
 * `trpc-offline-sync/client/key-value`; helpers for writing a local store are in
 * `trpc-offline-sync/store-kit`.
 */
export {
  createSyncClient,
  type SyncClient,
  type SyncResult,
  type ViewsOf,
  type ViewParamsArgs,
  type PullInputOf,
} from './sync-client.js';
export type { Subscription, SubscriptionStatus, SubscriptionEvents } from './subscription.js';
export { viewKey } from './view-tags.js';
export type { SyncClientOptions, TabsOptions } from './options.js';
export type {
  SyncDiagnostics,
  StepOutcome,
  RecentError,
  DiagnosticsSubscription,
} from './diagnostics.js';
export type { DeadLetterEdit, DeadLetterOptions } from './dead-letters.js';
export type { PingOptions } from './ping.js';
export type { Timers } from './timers.js';
/** One leader tab per name (Web Locks, BroadcastChannel fallback) and messages between tabs; `createSyncClient({ tabs: true })` uses it. */
export {
  createTabCoordinator,
  canCoordinateTabs,
  type TabCoordinator,
  type TabCoordinatorOptions,
  type TabMessage,
  type TabCall,
} from './tabs.js';
export type { SyncCollection, CollectionOf, Row, Filter, QueryOptions } from './collection.js';
export type {
  SyncApi,
  StreamObserver,
  StreamConnectionState,
  SyncUnsubscribable,
  AnyViewRequest,
  ViewRequestInput,
  ViewPullInput,
  ViewFullInput,
  ViewStreamInput,
} from './api.js';
export type {
  LocalStore,
  LocalDoc,
  LocalMeta,
  LocalWrite,
  OutboxEntry,
  OutboxQuery,
  DocData,
  RejectedChange,
  ResyncState,
  ViewState,
  DocPage,
  DocQuery,
  QueryValue,
} from './local-store.js';
export { memoryLocalStore, type MemoryLocalStore } from './memory-local-store.js';
export type {
  SyncClientEvents,
  ChangeEvent,
  ConflictEvent,
  ResyncEvent,
  ErrorEvent,
  SyncedEvent,
  ProgressEvent,
  StatusEvent,
  ClientIdEvent,
} from './events.js';
export type {
  IntegrityEvent,
  IntegrityCounters,
  IntegrityOptions,
  IntegrityMismatch,
} from './integrity.js';
export {
  isResyncRequired,
  isRetryable,
  isUnauthorized,
  isUpgradeRequired,
  clientIdConflict,
  backoffDelay,
  type RetryOptions,
  type PushRefusal,
} from './retry.js';
export {
  createTokenSource,
  type TokenSource,
  type TokenSourceOptions,
  type GetToken,
} from './token-source.js';
export {
  browserConnectivity,
  type SyncStatus,
  type Connectivity,
  type StatusDetail,
  type StatusReason,
} from './status.js';
