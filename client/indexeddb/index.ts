/** The IndexedDB local store (browsers). */
export { indexedDbLocalStore, type IndexedDbLocalStore, type IndexedDbLocalStoreOptions } from './store.js';
export { IndexedDbStoreError, type IndexedDbErrorCode } from './errors.js';
