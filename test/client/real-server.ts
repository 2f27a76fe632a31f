/** A real one-port sync server on 127.0.0.1 for client tests, on PGlite and on PostgreSQL when TEST_DATABASE_URL is set, with dev tokens and tRPC clients. */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createAppRouter, type AppRouter } from '../../server/demo/app-router.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import { throwawayPostgresStore } from '../rest/harness.js';

const SECRET = 'real-server-secret-real-server-secret!';

/** A store a test server runs on. */
export interface RealStoreCase {
  name: string;
  create: () => Promise<Store>;
}

/** PGlite, and PostgreSQL (a schema of its own, named after `prefix`) when TEST_DATABASE_URL is set. */
export function realStoreCases(prefix: string): RealStoreCase[] {
  const cases: RealStoreCase[] = [{ name: 'pglite', create: async () => pgliteStore() }];
  const url = process.env.TEST_DATABASE_URL;
  if (url)
    cases.push({ name: 'postgres', create: async () => throwawayPostgresStore(url, prefix) });
  return cases;
}

/** The running server of a suite. */
export interface RealServer {
  url: string;
  store: Store;
  engine: ReturnType<typeof createSyncEngine<typeof demoSchema>>;
  /** A dev token of `user` in `tenant`. */
  tokenOf(user: string, tenant: string): Promise<string>;
  /** A tRPC client (HTTP batch) signed in as `user` of `tenant`. */
  trpcFor(user: string, tenant: string): Promise<ReturnType<typeof createTRPCClient<AppRouter>>>;
}

/** Starts the demo app's server on the case's store before the suite's tests and closes it after; read it inside tests. */
export function useRealServer(storeCase: RealStoreCase): () => RealServer {
  let server: RealServer | null = null;
  let close: (() => Promise<void>) | null = null;
  beforeAll(async () => {
    const store = await storeCase.create();
    await store.init();
    const engine = createSyncEngine({
      store,
      schema: demoSchema,
      retention: { pruneIntervalMs: 0 },
    });
    const http = createSyncHttpServer({
      engine,
      authenticate: jwtAuthenticator({ secret: SECRET }),
      router: createAppRouter(engine),
    });
    const { url } = await http.listen(0, '127.0.0.1');
    const tokenOf = (user: string, tenant: string) =>
      signDevToken(SECRET, { sub: user, tenant, expiresIn: '1h' });
    server = {
      url,
      store,
      engine,
      tokenOf,
      trpcFor: async (user, tenant) => {
        const token = await tokenOf(user, tenant);
        return createTRPCClient<AppRouter>({
          links: [
            httpBatchLink({
              url: `${url}/trpc`,
              transformer: superjson,
              headers: { authorization: `Bearer ${token}` },
            }),
          ],
        });
      },
    };
    close = async () => {
      await http.close();
      await engine.close();
      await store.close();
    };
  });
  afterAll(async () => close?.());
  return () => {
    if (!server)
      throw new Error('useRealServer: the server is not started yet (read it inside a test)');
    return server;
  };
}
