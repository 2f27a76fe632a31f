/** The last title (and done flag) seen for each task id, so a notice can name a task after the server deleted it. */
import type { DocData } from 'trpc-offline-sync/client';

export interface KnownTask {
  title: string;
  done: boolean;
}

const known = new Map<string, KnownTask>();

/** Records what the list shows now. */
export function remember(id: string, task: { title?: unknown; done?: unknown }): void {
  // A pending patch over a document deleted on the server shows only the patched fields: keep the title seen before.
  if (typeof task.title === 'string')
    known.set(id, { title: task.title, done: task.done === true });
}

/** The task as last seen, or what a change says about it. */
export function knownTask(id: string, data?: DocData | null): KnownTask | undefined {
  const seen = known.get(id);
  const title = typeof data?.title === 'string' ? data.title : seen?.title;
  if (title === undefined) return undefined;
  return { title, done: typeof data?.done === 'boolean' ? data.done : (seen?.done ?? false) };
}

/** `'Replace filter'`, or `a task` when its title was never seen here. */
export function named(id: string, data?: DocData | null): string {
  const t = knownTask(id, data);
  return t ? `'${t.title}'` : 'a task';
}
