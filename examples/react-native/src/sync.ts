/**
 * The sync client of the app: SQLite through expo-sqlite, the app's own tRPC client (HTTP batch +
 * WebSocket), NetInfo feeding the status, and a token source shared by the links and the client.
 */
import NetInfo from '@react-native-community/netinfo';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { openDatabaseAsync } from 'expo-sqlite';
import superjson from 'superjson';
import { createSyncClient, createTokenSource, type Connectivity } from 'trpc-offline-sync/client';
import { expoSqliteDriver, sqliteLocalStore } from 'trpc-offline-sync/client/sqlite';
// The server's router type, for end-to-end types (a type-only import: no server code reaches the app bundle).
import type { SyncAppRouter } from 'trpc-offline-sync/trpc';
import { schema } from './schema';

/** The router of a server started with this schema (`trpc-offline-sync serve --schema`, or the demo server). */
type AppRouter = SyncAppRouter<typeof schema>;

/** Where the sync server runs (a device reaches the dev machine by its LAN address, not localhost). */
export const SERVER = 'http://192.0.2.10:3000';

/** NetInfo as the client's connectivity signal. */
export const netInfoConnectivity: Connectivity = {
  online: () => true, // refined by the first NetInfo event
  subscribe: (listener) =>
    NetInfo.addEventListener((state) => listener(state.isConnected !== false)),
};

export async function openSync(fetchToken: (refresh: boolean) => Promise<string>) {
  const tokens = createTokenSource(({ refresh }) => fetchToken(refresh));
  const wsClient = createWSClient({
    url: `${SERVER.replace(/^http/, 'ws')}/trpc`,
    connectionParams: async () => ({ token: (await tokens.get()) ?? '' }),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({
          url: `${SERVER}/trpc`,
          transformer: superjson,
          headers: async () => ({ authorization: `Bearer ${await tokens.get()}` }),
        }),
      }),
    ],
  });
  const db = await openDatabaseAsync('sync.db');
  const client = createSyncClient({
    api: trpc.sync,
    schema,
    store: sqliteLocalStore(expoSqliteDriver(db)),
    tokens,
    connectivity: netInfoConnectivity,
  });
  await client.start();
  return client;
}

export type AppSyncClient = Awaited<ReturnType<typeof openSync>>;
