/**
 * The README's example as a runnable server: an app router with `sync` merged in, on the embedded
 * PGlite store, served over HTTP and WebSocket on one port. Run: `npx tsx examples/embedded-server.ts`.
 */
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import { z } from 'zod';
import { defineSyncSchema } from 'trpc-offline-sync';
import {
  createSyncEngine,
  createSyncHttpServer,
  createSyncRouter,
  jwtAuthenticator,
  signDevToken,
  syncErrorFormatter,
  type Actor,
} from 'trpc-offline-sync/server';
import { pgliteStore } from 'trpc-offline-sync/postgres';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
});
const store = await pgliteStore(process.env.SYNC_DATA_DIR ?? './.sync-data-example');
await store.init();
const engine = createSyncEngine({ store, schema });

const t = initTRPC
  .context<{ actor: Actor | null }>()
  .create({ transformer: superjson, errorFormatter: syncErrorFormatter });
export const appRouter = t.router({
  sync: createSyncRouter({ engine, procedure: t.procedure }),
  hello: t.procedure.query(() => 'the app keeps its own procedures next to sync'),
});
export type AppRouter = typeof appRouter;

const secret = process.env.SYNC_JWT_SECRET ?? 'example-secret-change-me';
// One port: the app router at /trpc (HTTP + WebSocket), the REST face at /sync, /openapi.json, /metrics.
const server = createSyncHttpServer({
  engine,
  authenticate: jwtAuthenticator({ secret }),
  router: appRouter,
});
const { url } = await server.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
console.log(
  `example listening on ${url}; token: ${await signDevToken(secret, { sub: 'ada', tenant: 'acme', expiresIn: '24h' })}`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await server.close();
    await engine.close();
    await store.close();
    process.exit(0);
  });
}
