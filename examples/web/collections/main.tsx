/**
 * The collection browser `trpc-offline-sync serve --schema FILE` serves at `/`: every collection of
 * the app's schema, its documents listed, added, edited and deleted offline, synced live.
 */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { ConflictEvent } from '../../../client/index.js';
import {
  SyncProvider,
  usePending,
  useQuery,
  useSyncClient,
  useSyncStatus,
} from '../../../react/index.js';
import { describeToken, initialToken, onTokenFromOtherTab, saveToken } from '../token.js';
import { connect, type Connection, type PageSchema } from './connect.js';
import { DocForm } from './form.js';

const page: PageSchema = window.__SYNC_SCHEMA__ ?? { collections: {} };
const names = Object.keys(page.collections).sort();

/** A thrown write error in words (a local validation failure names its fields). */
function explain(error: unknown): string {
  const e = error as { message?: string; issues?: { path: string; message: string }[] };
  return e.issues?.length
    ? e.issues.map((i) => `${i.path}: ${i.message}`).join('; ')
    : (e.message ?? String(error));
}

function Status() {
  const status = useSyncStatus();
  const pending = usePending();
  return (
    <div className="bar">
      <span className={`status ${status}`} data-testid="status">
        {status}
      </span>
      <span data-testid="pending">
        {pending === 0 ? 'all changes saved' : `${pending} pending`}
      </span>
    </div>
  );
}

/** Changes the server refused or stored differently, in words. */
function Refusals() {
  const client = useSyncClient();
  const [events, setEvents] = useState<ConflictEvent[]>([]);
  useEffect(
    () => client.on('conflict', (e: ConflictEvent) => setEvents((all) => [e, ...all].slice(0, 5))),
    [client],
  );
  if (events.length === 0) return null;
  return (
    <div className="notices" data-testid="refusals">
      {events.map((e) => (
        <div className="notice" key={`${e.collection}/${e.id}/${e.mutationId}`}>
          {e.status === 'rejected'
            ? `The server refused ${e.collection}/${e.id}: ${e.error?.message ?? e.error?.code}`
            : `${e.collection}/${e.id} was changed elsewhere too; the server's version is kept.`}
          <button className="link" onClick={() => setEvents((all) => all.filter((x) => x !== e))}>
            dismiss
          </button>
        </div>
      ))}
    </div>
  );
}

/** A document's fields in the schema's order, then any others. */
function ordered(
  doc: Record<string, unknown>,
  schema: { properties?: Record<string, unknown> },
): [string, unknown][] {
  const order = Object.keys(schema.properties ?? {});
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return Object.entries(doc).sort(([a], [b]) => rank(a) - rank(b));
}

function Collection({ name }: { name: string }) {
  const collection = useSyncClient().collection(name);
  const rows = useQuery<Record<string, unknown>>(name);
  const [editing, setEditing] = useState<string | null>(null);
  const schema = page.collections[name]!;
  const save = async (id: string, doc: Record<string, unknown>) => {
    try {
      await collection.put(id, doc);
      setEditing(null);
      return null;
    } catch (error) {
      return explain(error);
    }
  };
  return (
    <section data-testid={`collection-${name}`}>
      <h2>New {name} document</h2>
      <DocForm key={`new-${name}`} schema={schema} onSave={save} />
      <h2>
        {rows.length} {rows.length === 1 ? 'document' : 'documents'}
      </h2>
      <ul className="docs" data-testid="docs">
        {rows.map((r) => (
          <li key={r.id} data-id={r.id}>
            {editing === r.id ? (
              <DocForm
                schema={schema}
                id={r.id}
                doc={r.doc}
                onSave={save}
                onCancel={() => setEditing(null)}
              />
            ) : (
              <>
                <div className="doc-head">
                  <code className="id">{r.id}</code>
                  {r.pending ? (
                    <span className="dot" title="not yet synced" aria-label="not yet synced" />
                  ) : null}
                  <span className="grow" />
                  <button onClick={() => setEditing(r.id)}>Edit</button>
                  <button
                    className="danger"
                    aria-label={`delete ${r.id}`}
                    onClick={() => void collection.delete(r.id)}
                  >
                    Delete
                  </button>
                </div>
                <dl>
                  {ordered(r.doc, schema).map(([k, v]) => (
                    <div key={k}>
                      <dt>{k}</dt>
                      <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                    </div>
                  ))}
                </dl>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function SignIn({
  onToken,
  current,
}: {
  onToken: (token: string) => void;
  current: string | null;
}) {
  const [value, setValue] = useState('');
  const who = current ? describeToken(current) : null;
  return (
    <section className="signin" data-testid="signin">
      <p>
        {who?.sub ? `Signed in as ${who.sub}${who.tenant ? ` of ${who.tenant}` : ''}. ` : ''}Paste a
        token for this server (for example from <code>trpc-offline-sync token --sub you</code>):
      </p>
      <form onSubmit={(e) => (e.preventDefault(), value.trim() && onToken(value.trim()))}>
        <input
          aria-label="token"
          placeholder="paste a token"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}

function Browser({ token, onToken }: { token: string; onToken: (t: string) => void }) {
  const [selected, setSelected] = useState(() =>
    names.includes(location.hash.slice(1)) ? location.hash.slice(1) : names[0]!,
  );
  const status = useSyncStatus();
  const [changing, setChanging] = useState(false);
  return (
    <main>
      <header className="top">
        <h1>Collections</h1>
        <button className="link" onClick={() => setChanging(!changing)}>
          Change token
        </button>
      </header>
      <Status />
      {changing || status === 'error' ? (
        <SignIn current={token} onToken={(t) => (setChanging(false), onToken(t))} />
      ) : null}
      <Refusals />
      <nav className="tabs" aria-label="collections">
        {names.map((n) => (
          <button
            key={n}
            aria-pressed={n === selected}
            onClick={() => (setSelected(n), (location.hash = n))}
          >
            {n}
          </button>
        ))}
      </nav>
      <Collection key={selected} name={selected} />
    </main>
  );
}

let current: Connection | null = (() => {
  const token = initialToken();
  return token && names.length > 0 ? connect(token, page) : null;
})();

function App() {
  const [conn, setConn] = useState(current);
  const use = (token: string, announce: boolean) => {
    if (announce) saveToken(token);
    if (current?.token === token) return;
    const old = current;
    current = null;
    void (async () => {
      await old?.close();
      current = connect(token, page);
      setConn(current);
    })();
  };
  useEffect(() => onTokenFromOtherTab((t) => use(t, false)), []);
  if (names.length === 0) return <main>This server sent no schema.</main>;
  if (!conn)
    return (
      <main>
        <h1>Collections</h1>
        <SignIn current={null} onToken={(t) => use(t, true)} />
      </main>
    );
  return (
    <SyncProvider client={conn.client} key={conn.token}>
      <Browser token={conn.token} onToken={(t) => use(t, true)} />
    </SyncProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
