/** The demo app router: `t.router({ sync })` over the demo schema, with superjson and the sync error formatter. */
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import type { SyncContext } from '../trpc/app-router.js';
import type { EngineFor } from '../trpc/inputs.js';
import { syncErrorFormatter } from '../trpc/errors.js';
import { createSyncRouter } from '../trpc/router.js';
import type { DemoRules } from './rules.js';
import type { DemoSchema } from './schema.js';

const t = initTRPC.context<SyncContext>().create({
  transformer: superjson,
  errorFormatter: syncErrorFormatter,
  isDev: process.env.NODE_ENV === 'development', // no stack traces to clients unless asked
  });

/**
 * Builds the demo app router over an engine on the demo schema (with or without the demo rules).
 *
 * @example
 * const appRouter = createAppRouter(createSyncEngine({ store, schema: demoSchema, rules: demoRules, defaultViews: demoDefaultViews }));
 * const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url, transformer: superjson })] });
 */
export function createAppRouter<R = {}>(engine: EngineFor<DemoSchema, R>) {
  return t.router({ sync: createSyncRouter({ engine, procedure: t.procedure }) });
}

/**
 * The demo router's type, for `createTRPCClient<AppRouter>`: typed with the demo rules (`mine`,
 * `all`), which `trpc-offline-sync serve` declares with the demo schema.
 */
export type AppRouter = ReturnType<typeof createAppRouter<DemoRules>>;
