/** The task app served by `trpc-offline-sync serve` at `/`: React hooks, an IndexedDB store and live sync over the app's own tRPC client. */
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { StrictMode, useEffect, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import superjson from 'superjson';
import * as sync from '../../client/index.js';
import type { ConflictEvent, LocalStore, RejectedChange, SyncClient } from '../../client/index.js';
import { SyncProvider, usePending, useQuery, useSyncClient, useSyncStatus } from '../../react/index.js';
import type { AppRouter } from '../../server/demo/app-router.js';
import { demoSchema, type DemoSchema } from '../../server/demo/schema.js';

declare global {
  interface Window {
    /** Injected by the server only when it generated its own development secret. */
    __SYNC_TOKEN__?: string;
    /** The running client, for the browser tests and the console. */
    __sync?: SyncClient<DemoSchema>;
  }
}

const TOKEN_KEY = 'trpc-offline-sync:token';

/** The IndexedDB store, shared by every tab of this origin. */
const localStore = (): LocalStore => sync.indexedDbLocalStore('tasks-app');

function connect(token: string): SyncClient<DemoSchema> {
  const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;
  // lazy: the socket opens with the first subscription, so follower tabs (which do not stream) hold none.
  const wsClient = createWSClient({ url: ws, connectionParams: () => ({ token }), retryDelayMs: (n) => Math.min(250 * 2 ** n, 5_000), lazy: { enabled: true, closeMs: 1_000 } });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({ url: `${location.origin}/trpc`, transformer: superjson, headers: () => ({ authorization: `Bearer ${token}` }) }),
      }),
    ],
  });
  // tabs: the tabs of this origin share the IndexedDB store; one of them syncs, the others write through it and follow.
  const client = sync.createSyncClient({ api: trpc.sync, schema: demoSchema, store: localStore(), tabs: true, retry: { retries: 2, maxMs: 2_000 } });
  // The stream reconnects by itself; a push that failed offline is retried when the browser says it is back.
  // Only the leader tab goes live; another tab takes over when it closes.
  void client.start();
  window.__sync = client;
  return client;
}

function StatusBar() {
  const status = useSyncStatus();
  const pending = usePending();
  return (
    <div className="bar">
      <span className={`status ${status}`} data-testid="status">
        {status}
      </span>
      <span data-testid="pending">{pending === 0 ? 'all changes saved' : `${pending} pending`}</span>
    </div>
  );
}

function TaskRow({ id, title, done, pending }: { id: string; title: string; done: boolean; pending: boolean }) {
  const tasks = useSyncClient().collection('tasks');
  const [draft, setDraft] = useState(title);
  useEffect(() => setDraft(title), [title]);
  const save = () => {
    if (draft.trim() && draft !== title) void tasks.patch(id, { title: draft.trim() });
  };
  return (
    <li className={done ? 'done' : ''} data-id={id}>
      <input type="checkbox" aria-label="done" checked={done} onChange={() => void tasks.patch(id, { done: !done })} />
      <input className="title" aria-label="title" value={draft} onChange={(e) => setDraft(e.target.value)} onBlur={save} onKeyDown={(e) => e.key === 'Enter' && save()} />
      {pending ? <span className="dot" title="not yet synced" /> : null}
      <button className="delete" aria-label="delete" onClick={() => void tasks.delete(id)}>
        ×
      </button>
    </li>
  );
}

function Problems() {
  const client = useSyncClient() as SyncClient<DemoSchema>;
  const [conflicts, setConflicts] = useState<ConflictEvent[]>([]);
  const [rejected, setRejected] = useState<RejectedChange[]>([]);
  useEffect(() => {
    const refresh = () => void client.rejected().then(setRejected, () => undefined);
    refresh();
    const offConflict = client.on('conflict', (c) => {
      setConflicts((list) => [c, ...list].slice(0, 5));
      refresh();
    });
    return offConflict;
  }, [client]);
  if (conflicts.length === 0 && rejected.length === 0) return null;
  return (
    <section className="problems" data-testid="problems">
      {conflicts.filter((c) => c.status === 'conflict_resolved').map((c) => (
        <p key={`c${c.mutationId}`}>Conflict on {c.collection}/{c.id}: the server kept {JSON.stringify(c.doc)}</p>
      ))}
      {rejected.map((r) => (
        <p key={`r${r.change.mutationId}`}>
          Rejected {r.change.collection}/{r.change.id}: {r.error.message || r.error.code}
        </p>
      ))}
      <button onClick={() => void client.clearRejected().then(() => (setConflicts([]), setRejected([])))}>dismiss</button>
    </section>
  );
}

function Tasks() {
  const tasks = useSyncClient().collection('tasks');
  const rows = useQuery(tasks, undefined, { orderBy: 'title' });
  const [title, setTitle] = useState('');
  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) return;
    void tasks.put(crypto.randomUUID(), { title: title.trim() });
    setTitle('');
  };
  const left = rows.filter((r) => !r.doc.done).length;
  return (
    <main>
      <h1>Tasks</h1>
      <StatusBar />
      <form onSubmit={add}>
        <input aria-label="new task" placeholder="What needs doing?" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      <ul data-testid="tasks">
        {rows.map((r) => (
          <TaskRow key={r.id} id={r.id} title={r.doc.title} done={r.doc.done} pending={r.pending} />
        ))}
      </ul>
      <p className="count" data-testid="count">
        {rows.length} tasks, {left} open
      </p>
      <Problems />
    </main>
  );
}

function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <main>
      <h1>Tasks</h1>
      <p>This server checks tokens with its configured secret. Paste a token for it:</p>
      <form onSubmit={(e) => (e.preventDefault(), value.trim() && onToken(value.trim()))}>
        <input aria-label="token" value={value} onChange={(e) => setValue(e.target.value)} />
        <button type="submit">Connect</button>
      </form>
    </main>
  );
}

// Connected once per page load (outside React, so StrictMode's double render never makes two clients).
const initialToken = window.__SYNC_TOKEN__ ?? localStorage.getItem(TOKEN_KEY);
const initialClient = initialToken ? connect(initialToken) : null;

function App() {
  const [client, setClient] = useState<SyncClient<DemoSchema> | null>(initialClient);
  if (!client)
    return (
      <TokenForm
        onToken={(token) => {
          localStorage.setItem(TOKEN_KEY, token);
          setClient(connect(token));
        }}
      />
    );
  return (
    <SyncProvider client={client}>
      <Tasks />
    </SyncProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
