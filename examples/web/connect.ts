/** One sync client per token: the app's tRPC links (WebSocket for the stream, HTTP batch for the rest) carrying the token, over the IndexedDB store shared by the tabs. */
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import superjson from 'superjson';
import * as sync from 'trpc-offline-sync/client';
import type { SyncClient } from 'trpc-offline-sync/client';
import { indexedDbLocalStore } from 'trpc-offline-sync/client/indexeddb';
import { demoSchema, type AppRouter, type DemoSchema } from 'trpc-offline-sync/demo';

declare global {
  interface Window {
    /** The running client, for the browser tests and the console. */
    __sync?: SyncClient<DemoSchema>;
  }
}

export type TasksClient = SyncClient<DemoSchema>;

/** A running client and how to end it (when the token is replaced). */
export interface Connection {
  client: TasksClient;
  token: string;
  close(): Promise<void>;
}

export function connect(token: string): Connection {
  const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;
  // lazy: the socket opens with the first subscription, so follower tabs (which do not stream) hold none.
  const wsClient = createWSClient({
    url: ws,
    connectionParams: () => ({ token }),
    retryDelayMs: (n) => Math.min(250 * 2 ** n, 5_000),
    lazy: { enabled: true, closeMs: 1_000 },
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({
          url: `${location.origin}/trpc`,
          transformer: superjson,
          headers: () => ({ authorization: `Bearer ${token}` }),
        }),
      }),
    ],
  });
  // tabs: the tabs of this origin share the IndexedDB store; one of them syncs, the others write through it and follow.
  const client = sync.createSyncClient({
    api: trpc.sync,
    schema: demoSchema,
    store: indexedDbLocalStore('tasks-app'),
    tabs: true,
    retry: { retries: 2, maxMs: 2_000 },
  });
  void client.start(); // only the leader tab goes live; another tab takes over when it closes
  window.__sync = client;
  return {
    client,
    token,
    async close() {
      await client.close().catch(() => undefined);
      wsClient.close();
    },
  };
}
