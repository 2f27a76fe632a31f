/** The task app served by `trpc-offline-sync serve` at `/`: an installable PWA over React hooks, an IndexedDB store and live sync; sign-in prompt, inspector, undo and notices in words. */
import {
  StrictMode,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type FormEvent,
} from 'react';
import { createRoot } from 'react-dom/client';
import type { StatusDetail, Subscription } from 'trpc-offline-sync/client';
import {
  SyncProvider,
  usePending,
  useQuery,
  useSyncClient,
  useSyncStatus,
} from 'trpc-offline-sync/react';
import { connect, type Connection, type TasksClient } from './connect.js';
import { Inspector } from './inspector.js';
import { Notices } from './notices.js';
import { applyUpdate, install, startPwa, usePwa } from './pwa.js';
import { remember } from './titles.js';
import { describeToken, initialToken, onTokenFromOtherTab, saveToken } from './token.js';
import { UndoProvider, useUndo } from './undo.js';
import { useChosenView, ViewProvider, ViewSwitch, WithView } from './views.js';

/** The status with its reason, re-rendered on `status` events. */
function useStatusDetail(): StatusDetail {
  const client = useSyncClient() as TasksClient;
  const [detail, setDetail] = useState(() => client.statusDetail());
  useEffect(() => {
    setDetail(client.statusDetail());
    return client.on('status', () => setDetail(client.statusDetail()));
  }, [client]);
  return detail;
}

/** What the status means for the person using the app. */
function statusWords(detail: StatusDetail, pending: number): string {
  const saved = pending === 0 ? 'all changes saved' : `${pending} pending`;
  if (detail.status === 'offline')
    return pending === 0
      ? 'all changes saved on this device'
      : `${pending} pending · kept on this device until ${detail.reason?.code === 'PLATFORM_OFFLINE' ? 'the network' : 'the server'} is back`;
  if (detail.status === 'stalled')
    return `${saved} · sync is stuck: ${detail.reason?.message ?? 'no progress'}`;
  if (detail.status === 'error')
    return `${saved} · ${detail.reason?.code === 'UNAUTHORIZED' ? 'sign in again to sync' : `sync failed: ${detail.reason?.message ?? 'unknown error'}`}`;
  if (detail.status === 'upgrade-required')
    return `${saved} · this app is out of date: reload to update`;
  return saved;
}

function StatusBar() {
  const status = useSyncStatus();
  const detail = useStatusDetail();
  const pending = usePending();
  return (
    <div className="bar">
      <span
        className={`status ${status}`}
        data-testid="status"
        title={detail.reason ? `${detail.reason.code}: ${detail.reason.message}` : undefined}
      >
        {status}
      </span>
      <span data-testid="pending" data-words={statusWords(detail, pending)}>
        {pending === 0 ? 'all changes saved' : `${pending} pending`}
      </span>
      {detail.status !== 'online' && detail.status !== 'syncing' ? (
        <span className="why" data-testid="status-words">
          {statusWords(detail, pending).replace(/^[^·]*· ?/, '') || 'kept on this device'}
        </span>
      ) : null}
    </div>
  );
}

/** Who the task is assigned to: a user id, typed in; Enter or leaving the field assigns it. */
function Assignee({ id, assignee }: { id: string; assignee: string }) {
  const tasks = useSyncClient().collection('tasks');
  const [draft, setDraft] = useState(assignee);
  useEffect(() => setDraft(assignee), [assignee]);
  const save = () => {
    if (draft.trim() !== assignee) void tasks.patch(id, { assignee: draft.trim() });
  };
  return (
    <input
      className="assignee"
      aria-label="assignee"
      placeholder="nobody"
      list="people"
      value={draft}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={save}
      onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), save())}
    />
  );
}

function TaskRow({
  id,
  title,
  done,
  pending,
  assignee,
}: {
  id: string;
  title: string;
  done: boolean;
  pending: boolean;
  assignee: string;
}) {
  const tasks = useSyncClient().collection('tasks');
  const { remove } = useUndo();
  const [draft, setDraft] = useState(title);
  useEffect(() => setDraft(title), [title]);
  const area = useRef<HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    // Browsers without CSS field-sizing (Firefox, Safari): grow the text area to its wrapped lines.
    const el = area.current;
    if (!el || CSS.supports('field-sizing', 'content')) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [draft]);
  const save = () => {
    if (draft.trim() && draft !== title) void tasks.patch(id, { title: draft.trim() });
    else setDraft(title);
  };
  return (
    <li className={done ? 'done' : ''} data-id={id} data-title={title} data-assignee={assignee}>
      <input
        type="checkbox"
        aria-label="done"
        checked={done}
        onChange={() => void tasks.patch(id, { done: !done })}
      />
      <textarea
        ref={area}
        className="title"
        aria-label="title"
        rows={1}
        value={draft}
        onChange={(e) => setDraft(e.target.value.replace(/\n/g, ' '))}
        onBlur={save}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            save();
          }
        }}
      />
      <Assignee id={id} assignee={assignee} />
      {pending ? <span className="dot" title="not yet synced" aria-label="not yet synced" /> : null}
      <button
        className="delete"
        aria-label="delete"
        title={`Delete '${title}'`}
        onClick={() => remove(id, title)}
      >
        ×
      </button>
    </li>
  );
}

/** The task list of the picked view (see views.tsx); in "Mine", new tasks are assigned to the signed-in user. */
function Tasks({ me }: { me: string | null }) {
  return <WithView>{(view, state) => <TaskList me={me} view={view} state={state} />}</WithView>;
}

function TaskList({
  me,
  view,
  state,
}: {
  me: string | null;
  view: Subscription | null;
  state: string;
}) {
  const tasks = useSyncClient().collection('tasks');
  const { hidden } = useUndo();
  const all = useQuery(tasks, undefined, { orderBy: 'title', ...(view ? { view } : {}) });
  for (const r of all) remember(r.id, { title: r.doc.title, done: r.doc.done });
  const rows = all.filter((r) => !hidden.has(r.id));
  const [title, setTitle] = useState('');
  const { view: picked } = useChosenView();
  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim()) return;
    // In "Mine", a new task is the user's (else it would not show in the list); elsewhere unassigned.
    void tasks.put(crypto.randomUUID(), {
      title: title.trim(),
      ...(me && picked === 'mine' ? { assignee: me } : {}),
    });
    setTitle('');
  };
  const left = rows.filter((r) => !r.doc.done).length;
  const people = [
    ...new Set([me, ...all.map((r) => r.doc.assignee)].filter((p): p is string => !!p)),
  ].sort();
  return (
    <>
      <form onSubmit={add} className="add">
        <input
          aria-label="new task"
          placeholder="What needs doing?"
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
        <button type="submit">Add</button>
      </form>
      <datalist id="people">
        {people.map((p) => (
          <option key={p} value={p} />
        ))}
      </datalist>
      <ul data-testid="tasks" data-view={view?.rule ?? ''} data-view-status={state}>
        {rows.map((r) => (
          <TaskRow
            key={r.id}
            id={r.id}
            title={r.doc.title}
            done={r.doc.done}
            pending={r.pending}
            assignee={r.doc.assignee ?? ''}
          />
        ))}
      </ul>
      <p className="count" data-testid="count">
        {rows.length} {rows.length === 1 ? 'task' : 'tasks'}, {left} open
        {picked === 'mine' ? ` · assigned to ${me ?? 'you'}` : ''}
        {state === 'pending'
          ? ' · loading this view…'
          : state === 'refused'
            ? ' · the server refused this view'
            : ''}
      </p>
    </>
  );
}

/** Asks for a token: when there is none, when the server refused the one in use, or when the user wants another. */
function SignIn({
  refused,
  current,
  onToken,
  onCancel,
}: {
  refused: string | null;
  current: string | null;
  onToken: (token: string) => void;
  onCancel?: () => void;
}) {
  const [value, setValue] = useState('');
  const who = current ? describeToken(current) : null;
  return (
    <section className="signin" data-testid="signin" data-token-end={current?.slice(-8) ?? ''}>
      {refused ? (
        <p>
          <strong>Sign in again to sync.</strong> The server refused your sign-in
          {who?.sub ? ` (as ${who.sub}${who.tenant ? ` of ${who.tenant}` : ''})` : ''}: {refused}.
          Your changes are kept on this device and will sync once you sign in.
        </p>
      ) : current ? (
        <p>
          Sign in with another token
          {who?.sub ? ` (now: ${who.sub}${who.tenant ? ` of ${who.tenant}` : ''})` : ''}.
        </p>
      ) : (
        <p>
          This server checks tokens with its configured secret. Paste a token for it (for example
          from <code>trpc-offline-sync token --sub you</code>):
        </p>
      )}
      <form
        onSubmit={(e) => (
          e.preventDefault(),
          value.trim() && (onToken(value.trim()), setValue(''))
        )}
      >
        <input
          aria-label="token"
          placeholder="paste a token"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
        <button type="submit">Sign in</button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </form>
    </section>
  );
}

function InstallButton() {
  const { installable } = usePwa();
  if (!installable) return null;
  return (
    <button className="link" onClick={() => void install()} data-testid="install">
      Install app
    </button>
  );
}

function UpdateBanner() {
  const { updateAvailable } = usePwa();
  if (!updateAvailable) return null;
  return (
    <div className="update" role="status" data-testid="update">
      <span>A new version of the app is available.</span>
      <button onClick={applyUpdate}>Reload</button>
    </div>
  );
}

const isInspectorRoute = () => location.hash === '#inspector';

function Page({ token, onToken }: { token: string; onToken: (token: string) => void }) {
  const detail = useStatusDetail();
  const [changing, setChanging] = useState(false);
  const [inspector, setInspector] = useState(isInspectorRoute);
  useEffect(() => {
    const on = () => setInspector(isInspectorRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const refused = detail.reason?.code === 'UNAUTHORIZED' ? detail.reason.message : null;
  const me = describeToken(token)?.sub ?? null;
  return (
    <>
      <main>
        <header className="top">
          <h1>Tasks</h1>
          <nav>
            <InstallButton />
            <a href={inspector ? '#' : '#inspector'} data-testid="inspector-toggle">
              {inspector ? 'Hide inspector' : 'Inspector'}
            </a>
            <button className="link" onClick={() => setChanging(true)}>
              Change token
            </button>
          </nav>
        </header>
        <UpdateBanner />
        <StatusBar />
        <div className="who">
          <ViewSwitch me={me} />
          {me ? (
            <span data-testid="me">
              signed in as <strong>{me}</strong>
            </span>
          ) : null}
        </div>
        {refused || changing ? (
          <SignIn
            refused={refused}
            current={token}
            onToken={(t) => (setChanging(false), onToken(t))}
            {...(refused ? {} : { onCancel: () => setChanging(false) })}
          />
        ) : null}
        {/* Notices first: on a phone a refused or overridden change is seen without scrolling past the list. */}
        <Notices />
        <Tasks me={me} />
      </main>
      {inspector ? <Inspector onClose={() => (location.hash = '')} /> : null}
    </>
  );
}

// Connected once per page load (outside React, so StrictMode's double render never makes two clients).
let current: Connection | null = (() => {
  const token = initialToken();
  return token ? connect(token) : null;
})();
void startPwa();

function App() {
  const [conn, setConn] = useState<Connection | null>(current);
  /** A new token, pasted here or in another tab: a new client with it (the old one is closed, its tab role given up). */
  const use = useCallback((token: string, announce: boolean) => {
    if (announce) saveToken(token);
    if (current?.token === token) return;
    const old = current;
    current = null;
    void (async () => {
      await old?.close();
      current = connect(token);
      setConn(current);
    })();
  }, []);
  useEffect(() => onTokenFromOtherTab((token) => use(token, false)), [use]);
  if (!conn)
    return (
      <main>
        <h1>Tasks</h1>
        <SignIn refused={null} current={null} onToken={(t) => use(t, true)} />
      </main>
    );
  return (
    <SyncProvider client={conn.client} key={conn.token}>
      <UndoProvider>
        <ViewProvider>
          <Page token={conn.token} onToken={(t) => use(t, true)} />
        </ViewProvider>
      </UndoProvider>
    </SyncProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
