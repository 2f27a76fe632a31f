/**
 * `trpc-offline-sync/demo`: the schema `trpc-offline-sync serve` runs when no `--schema` is given
 * (`tasks` and `notes`), and its router type, for a client of the demo server:
 * `createTRPCClient<AppRouter>(…)` and `createSyncClient({ schema: demoSchema, … })`. Only the
 * schema is code (zod): the router is a type, so a client bundle holds no server code.
 */
export { demoSchema, type DemoSchema } from './schema.js';
export type { AppRouter } from './app-router.js';
export type { DemoRules } from './rules.js';
