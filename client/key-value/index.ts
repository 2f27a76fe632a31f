/** The key-value local store (AsyncStorage-like APIs). */
export {
  keyValueLocalStore,
  type KeyValueStorage,
  type KeyValueLocalStoreOptions,
} from './store.js';
