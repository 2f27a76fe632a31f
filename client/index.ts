/**
 * `trpc-offline-sync/client`: offline collections, an outbox and live sync over the app's own tRPC
 * client. Browser and React Native safe: nothing here imports Node, a database driver or the server.
 */
export { createSyncClient, type SyncClient, type SyncResult, type ViewsOf, type ViewParamsArgs } from './sync-client.js';
export type { Subscription, SubscriptionStatus, SubscriptionEvents } from './subscription.js';
export { viewKey } from './view-tags.js';
export type { SyncClientOptions, TabsOptions } from './options.js';
export type { SyncDiagnostics, StepOutcome, RecentError, DiagnosticsSubscription } from './diagnostics.js';
export type { DeadLetterEdit, DeadLetterOptions } from './dead-letters.js';
export type { PingOptions } from './ping.js';
export type { Timers } from './timers.js';
/** One leader tab per name (Web Locks, BroadcastChannel fallback) and messages between tabs; `createSyncClient({ tabs: true })` uses it. */
export { createTabCoordinator, canCoordinateTabs, type TabCoordinator, type TabCoordinatorOptions, type TabMessage, type TabCall } from './tabs.js';
export type { SyncCollection, CollectionOf, Row, Filter, QueryOptions } from './collection.js';
export type { SyncApi, StreamObserver, StreamConnectionState, SyncUnsubscribable, ViewRequestInput, ViewPullInput, ViewFullInput, ViewStreamInput } from './api.js';
export type { LocalStore, LocalDoc, LocalMeta, LocalWrite, OutboxEntry, OutboxQuery, DocData, RejectedChange, ResyncState, ViewState, DocPage, DocQuery, QueryValue } from './local-store.js';
export { DEFAULT_PAGE } from './local-store.js';
export { runQuery, matchesWhere, docOrder, compareValues, compareIds } from './query.js';
export { memoryLocalStore, type MemoryLocalStore } from './memory-local-store.js';
export { keyValueLocalStore, type KeyValueStorage, type KeyValueLocalStoreOptions } from './key-value/index.js';
export { indexedDbLocalStore, IndexedDbStoreError, type IndexedDbLocalStore, type IndexedDbLocalStoreOptions, type IndexedDbErrorCode } from './indexeddb/index.js';
export { sqliteLocalStore, betterSqlite3Driver, expoSqliteDriver, opSqliteDriver, type SqliteLocalStore, type SqliteLocalStoreOptions, type SqliteDriver, type SqliteStatement, type SqliteResult, type SqliteValue, type BetterSqlite3Database, type ExpoSqliteDatabase, type ExpoSqliteTransaction, type ExpoSqliteDriverOptions, type OpSqliteDatabase, type OpSqliteTransaction } from './sqlite/index.js';
export type { SyncClientEvents, ChangeEvent, ConflictEvent, ResyncEvent, ErrorEvent, SyncedEvent, ProgressEvent, StatusEvent, ClientIdEvent } from './events.js';
export type { IntegrityEvent, IntegrityCounters, IntegrityOptions, IntegrityMismatch } from './integrity.js';
export { isResyncRequired, isRetryable, isUnauthorized, isUpgradeRequired, clientIdConflict, errorCode, pushRefusal, backoffDelay, retryDelay, type RetryOptions, type PushRefusal } from './retry.js';
export { rebase, mergePatch } from './rebase.js';
export { createTokenSource, tokenExpiry, type TokenSource, type TokenSourceOptions, type GetToken } from './token-source.js';
export { browserConnectivity, classifyFailure, type SyncStatus, type Connectivity, type StatusDetail, type StatusReason } from './status.js';
