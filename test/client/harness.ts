/** Client test harness: a real one-port sync server on 127.0.0.1 (memory store, or any store case) and real tRPC clients with a controllable link. */
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  TRPCClientError,
  wsLink,
  type TRPCLink,
} from '@trpc/client';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';
import WebSocket from 'ws';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createAppRouter, type AppRouter } from '../../server/demo/app-router.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer, type SyncHttpServer } from '../../server/http/server.js';
import type { EngineEvent, SyncLimits } from '../../server/engine/types.js';
import type { RateLimitOptions } from '../../server/engine/rate-limit.js';
import { defineSyncSchema, type SyncSchema } from '../../shared/schema.js';
import { z } from 'zod';
import { memoryStore, type MemoryStore } from '../../server/stores/memory.js';
import type { Store } from '../../server/stores/store.js';
import { storeCases, type StoreCase } from '../rest/harness.js';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type RetryOptions,
  type SyncClient,
} from '../../client/index.js';

export const SECRET = 'client-test-secret-client-test-secret';

/** Switches of the test link: go offline, or lose the next push answers after the server applied them. */
export interface LinkControl {
  offline: boolean;
  dropPushResponses: number;
}

/** A link that fails requests while `offline`, and swallows push answers (the server did apply them) while `dropPushResponses > 0`. */
function controlLink(control: LinkControl): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        if (control.offline && op.type !== 'subscription') {
          observer.error(
            TRPCClientError.from(
              new Error('fetch failed: network unreachable (test link offline)'),
            ),
          );
          return;
        }
        const sub = next(op).subscribe({
          next(value) {
            if (op.path === 'sync.push' && control.dropPushResponses > 0) {
              control.dropPushResponses--;
              observer.error(
                TRPCClientError.from(new Error('socket hang up: response lost (test link)')),
              );
              return;
            }
            observer.next(value);
          },
          error: (error) => observer.error(error),
          complete: () => observer.complete(),
        });
        return () => sub.unsubscribe();
      });
}

export type DemoClient = SyncClient<typeof demoSchema>;

export interface TestDevice<S extends SyncSchema = typeof demoSchema> {
  client: SyncClient<S>;
  control: LinkControl;
  trpc: ReturnType<typeof createTRPCClient<AppRouter>>;
}

export interface ClientTestServer {
  url: string;
  /** The server's store (a `MemoryStore` unless `startClientServer` was given another store case). */
  store: Store;
  /** The store case's name: memory, pglite or postgres. */
  storeName: string;
  engine: ReturnType<typeof createSyncEngine<typeof demoSchema>>;
  events: EngineEvent[];
  /** A device of `tenant` with its own memory local store. */
  device(tenant?: string, clientId?: string, localStore?: LocalStore): Promise<TestDevice>;
  /** A device whose client uses `schema` (e.g. looser than the server's demo schema). */
  deviceWith<S extends SyncSchema>(
    schema: S,
    tenant?: string,
    clientId?: string,
    localStore?: LocalStore,
  ): Promise<TestDevice<S>>;
  /** Stops the http server (engine and store stay): clients see connection refused. */
  stopHttp(): Promise<void>;
  /** Serves again on the same port. */
  restartHttp(): Promise<void>;
  /** Every oplog entry of `scope` written by `clientId` (memory store only: use `oplog` on any store). */
  oplogOf(scope: string, clientId: string): { mutationId: number | null; id: string }[];
  /** Every oplog entry of `scope` written by `clientId`, read through the Store API (any store). */
  oplog(scope: string, clientId: string): Promise<{ mutationId: number | null; id: string }[]>;
  close(): Promise<void>;
}

/**
 * The server stores client suites run on: PGlite, PostgreSQL when TEST_DATABASE_URL is set, and
 * memory when `withMemory` or when `TEST_STORES` names it (`npm run mutation` runs the client part on
 * memory only: without this, those suites would run nothing there).
 */
export async function serverStoreCases(withMemory = false): Promise<StoreCase[]> {
  const named = process.env.TEST_STORES?.split(',').some((s) => s.trim() === 'memory') ?? false;
  return (await storeCases()).filter((c) => withMemory || named || c.name !== 'memory');
}

/**
 * Starts engine + one-port server on `store` (a store case; the memory store by default) (`limits`:
 * engine limits, e.g. a small `maxDocumentBytes`; `rateLimit`: the engine's; `retry`: the devices'
 * client retry options).
 */
export async function startClientServer(
  options: {
    limits?: Partial<SyncLimits>;
    rateLimit?: RateLimitOptions;
    retry?: RetryOptions;
    newLocalStore?: () => LocalStore | Promise<LocalStore>;
    serverSchema?: typeof demoSchema;
    minSchemaVersion?: number;
    store?: StoreCase;
  } = {},
): Promise<ClientTestServer> {
  let memory: MemoryStore | undefined;
  let store: Store;
  if (options.store) store = await options.store.create();
  else {
    memory = memoryStore();
    await memory.init();
    store = memory;
  }
  const events: EngineEvent[] = [];
  const engine = createSyncEngine({
    store,
    schema: options.serverSchema ?? demoSchema,
    ...(options.minSchemaVersion !== undefined
      ? { minSchemaVersion: options.minSchemaVersion }
      : {}),
    limits: options.limits,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    stream: { heartbeatMs: 300, pollMs: 200 },
    onEvent: (e) => events.push(e),
  });
  const authenticate = jwtAuthenticator({ secret: SECRET });
  let http: SyncHttpServer = createSyncHttpServer({
    engine,
    authenticate,
    router: createAppRouter(engine),
  });
  const { url, port } = await http.listen(0, '127.0.0.1');
  const cleanups: (() => Promise<void> | void)[] = [];

  async function deviceWith<S extends SyncSchema>(
    schema: S,
    tenant = 'acme',
    clientId?: string,
    localStore?: LocalStore,
  ): Promise<TestDevice<S>> {
    const token = await signDevToken(SECRET, { sub: `u-${tenant}`, tenant, expiresIn: '1h' });
    const control: LinkControl = { offline: false, dropPushResponses: 0 };
    const wsClient = createWSClient({
      url: `ws://127.0.0.1:${port}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: async () => ({ token }),
      retryDelayMs: () => 50,
      lazy: { enabled: true, closeMs: 0 },
    });
    const trpc = createTRPCClient<AppRouter>({
      links: [
        controlLink(control),
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: wsClient, transformer: superjson }),
          false: httpBatchLink({
            url: `${url}/trpc`,
            transformer: superjson,
            headers: { authorization: `Bearer ${token}` },
          }),
        }),
      ],
    });
    const client = createSyncClient({
      api: trpc.sync,
      schema,
      store: localStore ?? (await (options.newLocalStore ?? memoryLocalStore)()),
      clientId,
      retry: options.retry ?? { retries: 4, baseMs: 10, maxMs: 100 },
    });
    cleanups.push(async () => {
      await client.close();
      await wsClient.close();
    });
    return { client, control, trpc };
  }

  return {
    url,
    store,
    storeName: options.store?.name ?? 'memory',
    engine,
    events,
    device: (tenant, clientId, localStore) => deviceWith(demoSchema, tenant, clientId, localStore),
    deviceWith,
    async stopHttp() {
      await http.close();
    },
    async restartHttp() {
      http = createSyncHttpServer({ engine, authenticate, router: createAppRouter(engine) });
      await http.listen(port, '127.0.0.1');
    },
    oplogOf(scope, clientId) {
      if (!memory)
        throw new Error(
          `oplogOf reads the memory store; on ${options.store?.name} use await oplog()`,
        );
      return (memory.raw.get(scope)?.oplog ?? [])
        .filter((e) => e.clientId === clientId)
        .map((e) => ({ mutationId: e.mutationId, id: e.id }));
    },
    async oplog(scope, clientId) {
      const entries = await store.readOplog(scope, { afterSeq: 0 });
      return entries
        .filter((e) => e.clientId === clientId)
        .map((e) => ({ mutationId: e.mutationId, id: e.id }));
    },
    async close() {
      for (const cleanup of cleanups) await cleanup();
      await http.close();
      await engine.close();
      await store.close();
    },
  };
}

/** Waits until `check` passes (polling), or fails after `ms`. */
export async function eventually(check: () => void | Promise<void>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** The demo schema, but looser than the server's: a task's title may also be a number. */
export const looseSchema = defineSyncSchema({
  tasks: z.object({
    title: z.union([z.string(), z.number()]),
    done: z.boolean().default(false),
    priority: z.number().int().optional(),
    tags: z.array(z.string()).optional(),
  }),
  notes: z.object({ body: z.string() }),
});
