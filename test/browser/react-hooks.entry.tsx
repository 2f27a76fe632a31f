/** Bundled into a blank Chromium page by react-hooks.test.ts: the hooks over a memory-store client, with render counters. */
import { createRoot } from 'react-dom/client';
import { createSyncClient, memoryLocalStore, type SyncApi } from '../../client/index.js';
import { SyncProvider, useDoc, usePending, useQuery, useSyncStatus } from '../../react/index.js';
import { demoSchema } from '../../server/demo/schema.js';

const never = () => Promise.reject(new Error('offline test api'));
const api = {
  push: { mutate: never },
  pull: { query: never },
  full: { query: never },
  stream: { subscribe: () => ({ unsubscribe() {} }) },
} as unknown as SyncApi;
const client = createSyncClient({
  api,
  schema: demoSchema,
  store: memoryLocalStore(),
  connectivity: null,
});
const renders: Record<string, number> = {};
const count = (name: string) => (renders[name] = (renders[name] ?? 0) + 1);

function OpenTasks() {
  count('openTasks');
  const rows = useQuery('tasks', { done: false }, { orderBy: 'title' });
  return (
    <ul id="open">
      {rows.map((r) => (
        <li key={r.id}>{r.doc.title}</li>
      ))}
    </ul>
  );
}
function Notes() {
  count('notes');
  const rows = useQuery(client.collection('notes'));
  return (
    <ul id="notes">
      {rows.map((r) => (
        <li key={r.id}>{r.doc.body}</li>
      ))}
    </ul>
  );
}
function FirstTask() {
  count('firstTask');
  const doc = useDoc('tasks', 't1');
  return <p id="first">{doc ? doc.title : '-'}</p>;
}
function Footer() {
  count('footer');
  return (
    <p>
      <span id="pending">{usePending()}</span> <span id="status">{useSyncStatus()}</span>
    </p>
  );
}

createRoot(document.getElementById('root')!).render(
  <SyncProvider client={client}>
    <OpenTasks />
    <Notes />
    <FirstTask />
    <Footer />
  </SyncProvider>,
);
(window as unknown as { __t: unknown }).__t = { client, renders };
