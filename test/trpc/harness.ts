/** Test harness: a real one-port sync server on 127.0.0.1 and real tRPC clients (HTTP batch + WebSocket, or SSE). */
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  wsLink,
} from '@trpc/client';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import WebSocket from 'ws';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createAppRouter, type AppRouter } from '../../server/demo/app-router.js';
import { demoSchema, type DemoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngineOptions } from '../../server/engine/types.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { createMetrics } from '../../server/metrics.js';
import type { Store } from '../../server/stores/store.js';
import type { EngineFor } from '../../server/trpc/inputs.js';

export const SECRET = 'test-secret-test-secret-test-secret!';

export interface TestServer {
  url: string;
  port: number;
  engine: EngineFor<DemoSchema>;
  http: ReturnType<typeof createSyncHttpServer>;
  token(sub: string, tenant?: string): Promise<string>;
  /** A client: queries and mutations over HTTP batch, subscriptions over WebSocket (or SSE). */
  client(token: string | null, transport?: 'ws' | 'sse'): TestClient;
  close(): Promise<void>;
}

export interface TestClient {
  trpc: ReturnType<typeof createTRPCClient<AppRouter>>;
  close(): void;
}

/** Starts engine + server over `store` (already created; init is called here), with extra engine options. */
export async function startServer(
  store: Store,
  engineOptions: Partial<SyncEngineOptions<DemoSchema>> = {},
): Promise<TestServer> {
  await store.init();
  const metrics = createMetrics({ processMetrics: false });
  const engine = createSyncEngine({
    store,
    schema: demoSchema,
    stream: { heartbeatMs: 300, pollMs: 200 },
    onEvent: metrics.onEvent,
    ...engineOptions,
  });
  const http = createSyncHttpServer({
    engine,
    authenticate: jwtAuthenticator({ secret: SECRET }),
    router: createAppRouter(engine),
    metrics,
  });
  const { url, port } = await http.listen(0, '127.0.0.1');
  const clients: TestClient[] = [];
  return {
    url,
    port,
    engine,
    http,
    token: (sub, tenant) => signDevToken(SECRET, { sub, tenant, expiresIn: '1h' }),
    client(token, transport = 'ws') {
      const headers = () => (token ? { authorization: `Bearer ${token}` } : {});
      const wsClient =
        transport === 'ws'
          ? createWSClient({
              url: `ws://127.0.0.1:${port}/trpc`,
              WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
              connectionParams: async () => (token ? { token } : {}),
              retryDelayMs: () => 50,
            })
          : null;
      const subscriptionLink = wsClient
        ? wsLink({ client: wsClient, transformer: superjson })
        : httpSubscriptionLink({
            url: `${url}/trpc`,
            transformer: superjson,
            EventSource,
            connectionParams: async () => (token ? { token } : {}),
          });
      const trpc = createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.type === 'subscription',
            true: subscriptionLink,
            false: httpBatchLink({ url: `${url}/trpc`, transformer: superjson, headers }),
          }),
        ],
      });
      const client = { trpc, close: () => void wsClient?.close() };
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      await http.close();
      await engine.close();
      await store.close();
    },
  };
}

/** Waits until `check` passes (polling), or fails after `ms`. */
export async function eventually(check: () => void, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
