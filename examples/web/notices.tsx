/** Conflict and rejection notices in words for people: which task (by title), what was kept, and what can be done (keep mine, restore, try again, discard). */
import { useEffect, useState } from 'react';
import type { ConflictEvent, RejectedChange } from 'trpc-offline-sync/client';
import { useSyncClient } from 'trpc-offline-sync/react';
import type { TasksClient } from './connect.js';
import { knownTask, named } from './titles.js';

/** What the user tried, in words: "tick", "rename", "delete", … */
function attempted(change: ConflictEvent['change']): string {
  if (change.op === 'delete') return 'deletion of';
  const fields = Object.keys(change.data ?? {});
  if (fields.length === 1 && fields[0] === 'done')
    return change.data!.done ? 'tick on' : 'untick on';
  if (fields.length === 1 && fields[0] === 'title') return 'new title for';
  return 'change to';
}

/** Why the server refused a change, for a person. */
function refusal(error: RejectedChange['error']): string {
  switch (error.code) {
    case 'FORBIDDEN':
      return 'you are not allowed to change it';
    case 'DELETE_REJECTED':
      return 'it was deleted on another device';
    case 'INVALID_DOCUMENT':
    case 'BAD_REQUEST':
      return `the server found it invalid (${error.issues?.map((i) => i.message).join('; ') || error.message})`;
    case 'PAYLOAD_TOO_LARGE':
      return 'it is too large to save';
    case 'RESOLVER_REJECTED':
      return error.message;
    default:
      return error.message || error.code;
  }
}

interface Notice {
  key: string;
  text: string;
  actions: { label: string; run: () => Promise<unknown> }[];
  /** A refused write whose title can be edited and sent again. */
  edit?: { title: string; retry: (title: string) => Promise<unknown> };
}

/** "Edit and retry": the refused title in a field, sent again as a new write when saved. */
function EditRetry({ edit }: { edit: NonNullable<Notice['edit']> }) {
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState(edit.title);
  if (!open) return <button onClick={() => setOpen(true)}>Edit</button>;
  return (
    <form
      className="edit"
      onSubmit={(e) => (e.preventDefault(), title.trim() && void edit.retry(title.trim()))}
    >
      <input
        aria-label="edit refused title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
      />
      <button type="submit">Save and retry</button>
    </form>
  );
}

function conflictNotice(client: TasksClient, c: ConflictEvent, dismiss: () => void): Notice | null {
  if (c.status !== 'conflict_resolved' || c.collection !== 'tasks') return null;
  const tasks = client.collection('tasks');
  const renamed = attempted(c.change) === 'new title for';
  const what = renamed
    ? `Your new title '${String(c.change.data!.title)}'`
    : `Your ${attempted(c.change)} ${named(c.id, c.change.data)}`;
  if (c.doc === null || c.doc === undefined) {
    // The default delete policy keeps a deleted task deleted: "keep mine" can only restore it as a new task.
    const mine = { ...knownTask(c.id, c.change.data), ...(c.change.data ?? {}) } as {
      title?: string;
      done?: boolean;
    };
    return {
      key: `c${c.mutationId}`,
      text: `${what} was not kept: the task was deleted on another device.`,
      actions: mine.title
        ? [
            {
              label: 'Restore it',
              run: () =>
                tasks
                  .put(crypto.randomUUID(), { title: mine.title!, done: mine.done ?? false })
                  .then(dismiss),
            },
          ]
        : [],
    };
  }
  const kept = c.doc as { title?: string; done?: boolean };
  const keptWords = [
    kept.title !== undefined ? `'${kept.title}'` : null,
    kept.done ? '(done)' : kept.done === false ? '(open)' : null,
  ]
    .filter(Boolean)
    .join(' ');
  return {
    key: `c${c.mutationId}`,
    text: `${what} was replaced by a newer change from another device: it is now ${keptWords}.`,
    // Fields merge last-writer-wins: writing mine again makes it the newest.
    actions:
      c.change.op === 'delete'
        ? [{ label: 'Delete it anyway', run: () => tasks.delete(c.id).then(dismiss) }]
        : [
            {
              label: 'Keep mine',
              run: () => tasks.patch(c.id, c.change.data as never).then(dismiss),
            },
          ],
  };
}

/** The notices under the list. */
export function Notices() {
  const client = useSyncClient() as TasksClient;
  const [conflicts, setConflicts] = useState<ConflictEvent[]>([]);
  const [rejected, setRejected] = useState<RejectedChange[]>([]);
  useEffect(() => {
    const refresh = () => void client.deadLetters().then(setRejected, () => undefined);
    refresh();
    const offConflict = client.on('conflict', (c) => {
      if (c.status === 'conflict_resolved')
        setConflicts((list) =>
          [c, ...list.filter((x) => x.mutationId !== c.mutationId)].slice(0, 5),
        );
      refresh();
    });
    const offSynced = client.on('synced', refresh);
    const offStatus = client.on('status', refresh);
    return () => (offConflict(), offSynced(), offStatus());
  }, [client]);
  const notices: Notice[] = [];
  for (const c of conflicts) {
    const n = conflictNotice(client, c, () => setConflicts((list) => list.filter((x) => x !== c)));
    if (n) notices.push(n);
  }
  for (const r of rejected) {
    notices.push({
      key: `r${r.change.mutationId}`,
      text: `Your ${attempted(r.change)} ${named(r.change.id, r.change.data)} was not saved: ${refusal(r.error)}.`,
      actions: [
        {
          label: 'Try again',
          run: () =>
            client
              .retryDeadLetter(r.change.mutationId)
              .then(() => setRejected((list) => list.filter((x) => x !== r))),
        },
      ],
      ...(r.change.op !== 'delete' && typeof r.change.data?.title === 'string'
        ? {
            edit: {
              title: r.change.data.title,
              retry: (title: string) =>
                client
                  .retryDeadLetter(r.change.mutationId, { data: { ...r.change.data, title } })
                  .then(() => setRejected((list) => list.filter((x) => x !== r))),
            },
          }
        : {}),
    });
  }
  if (notices.length === 0) return null;
  return (
    <section className="notices" data-testid="notices" aria-live="polite">
      {notices.map((n) => (
        <div className="notice" key={n.key} data-testid="notice">
          <p>{n.text}</p>
          <div className="actions">
            {n.edit ? <EditRetry edit={n.edit} /> : null}
            {n.actions.map((a) => (
              <button key={a.label} onClick={() => void a.run()}>
                {a.label}
              </button>
            ))}
            <button
              onClick={() => {
                if (n.key.startsWith('c'))
                  setConflicts((list) => list.filter((x) => `c${x.mutationId}` !== n.key));
                else
                  void client
                    .discardDeadLetter(Number(n.key.slice(1)))
                    .then(() =>
                      setRejected((list) =>
                        list.filter((x) => `r${x.change.mutationId}` !== n.key),
                      ),
                    );
              }}
            >
              {n.key.startsWith('c') ? 'OK' : 'Discard'}
            </button>
          </div>
        </div>
      ))}
    </section>
  );
}
