// Public entry of the MongoDB store: the factory, its options and the store type.
export { mongoStore, type MongoStore } from './store.js';
export type { MongoStoreOptions } from './options.js';
