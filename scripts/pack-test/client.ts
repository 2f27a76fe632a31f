/**
 * The client-only app of the packaging test (a browser or React Native app's imports, run by Node
 * here): `push URL TOKEN ID` writes a task and syncs it; `pull URL TOKEN ID` starts from an empty
 * local store, syncs and checks the task arrived. Only public entry points of the installed package.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { createSyncClient, memoryLocalStore, type SyncClient } from 'trpc-offline-sync/client';
import { demoSchema, type AppRouter, type DemoSchema } from 'trpc-offline-sync/demo';

declare const process: { argv: string[]; exitCode: number | undefined };

const [mode, url, token, id] = process.argv.slice(2) as [string, string, string, string];
const trpc = createTRPCClient<AppRouter>({
  links: [
    httpBatchLink({
      url: `${url}/trpc`,
      transformer: superjson,
      headers: { authorization: `Bearer ${token}` },
    }),
  ],
});
const client: SyncClient<DemoSchema> = createSyncClient({
  api: trpc.sync,
  schema: demoSchema,
  store: memoryLocalStore(),
});
if (mode === 'push') {
  await client.collection('tasks').put(id, { title: `packed ${id}`, done: false });
  await client.syncNow();
  console.log(`client: pushed tasks/${id} to ${url}`);
} else {
  await client.syncNow();
  const doc = await client.collection('tasks').get(id);
  if (doc?.title !== `packed ${id}`) {
    console.log(`client: tasks/${id} not found after a pull from ${url}: ${JSON.stringify(doc)}`);
    process.exitCode = 1;
  } else console.log(`client: pulled tasks/${id} from ${url}`);
}
await client.close();
