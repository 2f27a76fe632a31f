/**
 * The demo app router: the shipped `createSyncAppRouter` (with `syncTransformer` and
 * `syncErrorFormatter`) over the demo schema, so what the tests and samples run is what ships.
 */
import { createSyncAppRouter, type SyncAppRouter } from '../trpc/app-router.js';
import type { EngineFor } from '../trpc/inputs.js';
import type { DemoRules } from './rules.js';
import type { DemoSchema } from './schema.js';

/**
 * Builds the demo app router over an engine on the demo schema (with or without the demo rules):
 * `createSyncAppRouter(engine)`, what ships.
 *
 * @example
 * const appRouter = createAppRouter(createSyncEngine({ store, schema: demoSchema, rules: demoRules, defaultViews: demoDefaultViews }));
 * const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, transformer: superjson })] });
 */
export function createAppRouter<R = {}>(
  engine: EngineFor<DemoSchema, R>,
): SyncAppRouter<DemoSchema, R> {
  return createSyncAppRouter(engine);
}

/**
 * The demo router's type, for `createTRPCClient<AppRouter>`: typed with the demo rules (`mine`,
 * `all`), which `trpc-offline-sync serve` declares with the demo schema.
 */
export type AppRouter = SyncAppRouter<DemoSchema, DemoRules>;
