/**
 * `trpc-offline-sync/demo`: the schema `trpc-offline-sync serve` runs when no `--schema` is given
 * (`tasks` and `notes`), and its router type, for a client of the demo server:
 * `createTRPCClient<AppRouter>(…)` and `createSyncClient({ schema: demoSchema, … })`.
 */
export { demoSchema, type DemoSchema } from './schema.js';
export { createAppRouter, type AppRouter } from './app-router.js';
