/**
 * `trpc-offline-sync/server`: everything server-side in one entry: the engine and the in-memory
 * store, the tRPC, REST and compat faces, the Node server, auth, metrics and logging. Each part is
 * also an entry of its own (`./engine`, `./trpc`, `./rest`, `./compat`, `./node`, `./metrics`), so
 * an app can load only what it uses. The SQL store is `trpc-offline-sync/postgres` and the MongoDB
 * store `trpc-offline-sync/mongodb`, so apps load only the driver they use.
 */
export * from './entries/engine.js';
export * from './entries/trpc.js';
export * from './entries/rest.js';
export * from './entries/compat.js';
export * from './entries/node.js';
export * from './entries/metrics.js';
export * from './entries/gateway.js';
