/** The IndexedDB local store (browsers). */
export {
  indexedDbLocalStore,
  type IndexedDbLocalStore,
  type IndexedDbLocalStoreOptions,
  type IdbFactory,
  type IdbKeyRangeClass,
} from './store.js';
export { IndexedDbStoreError, type IndexedDbErrorCode } from './errors.js';
