/**
 * The demo app router: the shipped `createSyncAppRouter` (with `syncTransformer` and
 * `syncErrorFormatter`) over the demo schema, so what the tests and samples run is what ships.
 */
import { createSyncAppRouter, type SyncAppRouter } from '../trpc/app-router.js';
import type { EngineFor } from '../trpc/inputs.js';
import type { DemoSchema } from './schema.js';

/**
 * Builds the demo app router over an engine on the demo schema: `createSyncAppRouter(engine)`.
 *
 * @example
 * const appRouter = createAppRouter(createSyncEngine({ store, schema: demoSchema }));
 * const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, transformer: superjson })] });
 */
export function createAppRouter(engine: EngineFor<DemoSchema>): AppRouter {
  return createSyncAppRouter(engine);
}

/** The demo router's type, for `createTRPCClient<AppRouter>`: `SyncAppRouter<DemoSchema>`. */
export type AppRouter = SyncAppRouter<DemoSchema>;
