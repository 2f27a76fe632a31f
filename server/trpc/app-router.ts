/** A ready-made app router holding only `sync`, for servers whose app has no tRPC router of its own. */
import { initTRPC } from '@trpc/server';
import type { Actor } from '../../shared/protocol.js';
import { syncErrorFormatter } from './errors.js';
import type { EngineFor } from './inputs.js';
import { createSyncRouter } from './router.js';
import { syncTransformer } from './transformer.js';

/** The context the built-in servers give procedures: the authenticated actor (or null) and the raw token. */
export interface SyncContext {
  actor: Actor | null;
  token: string | null;
}

/**
 * `t.router({ sync })` with superjson (`syncTransformer`) and `syncErrorFormatter`, over the context `SyncContext`.
 *
 * @example
 * const appRouter = createSyncAppRouter(engine);
 * export type AppRouter = typeof appRouter;
 */
export function createSyncAppRouter<S, R = {}>(engine: EngineFor<S, R>) {
  const t = initTRPC.context<SyncContext>().create({
    transformer: syncTransformer, // superjson, keeping own __proto__ keys for the engine to refuse
    errorFormatter: syncErrorFormatter,
    isDev: process.env.NODE_ENV === 'development', // no stack traces to clients unless asked
  });
  return t.router({ sync: createSyncRouter({ engine, procedure: t.procedure }) });
}

/** The type of a `createSyncAppRouter` router for schema `S` and rules `R`. */
export type SyncAppRouter<S, R = {}> = ReturnType<typeof createSyncAppRouter<S, R>>;
