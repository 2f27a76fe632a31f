/**
 * `trpc-offline-sync/store-kit`: what a local-store author needs beyond the `LocalStore` contract:
 * the query evaluator every built-in store answers `queryDocs` with (filters, order, pages), its
 * comparisons, and the default page size. Stores that cannot query natively run `runQuery` over
 * their documents and agree with the built-in ones by construction.
 */
export { runQuery, matchesWhere, docOrder, compareValues, compareIds } from './query.js';
export { DEFAULT_PAGE } from './local-store.js';
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
  DocPage,
  DocQuery,
  QueryValue,
} from './local-store.js';
