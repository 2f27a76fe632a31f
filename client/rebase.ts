/** Local document arithmetic: apply one change to data, and re-apply pending changes on top of a server state. */
import type { DocData, OutboxEntry } from './local-store.js';

/** JSON merge patch: given fields change, `null` removes a field. */
export function mergePatch(current: DocData, patch: DocData): DocData {
  const out: DocData = { ...current };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete out[field];
    else out[field] = value;
  }
  return out;
}

/** The data after one change (`null`: deleted). A patch on a missing document patches `{}`, as the server does. */
export function applyChange(
  current: DocData | null,
  change: Pick<OutboxEntry, 'op' | 'data'>,
): DocData | null {
  if (change.op === 'delete') return null;
  if (change.op === 'upsert') return { ...(change.data ?? {}) };
  return mergePatch(current ?? {}, change.data ?? {});
}

/**
 * The data the app sees: the server state with the document's pending changes re-applied in
 * mutation id order (the server has not answered them yet, so its state cannot include them).
 */
export function rebase(server: DocData | null, pending: readonly OutboxEntry[]): DocData | null {
  let data = server === null ? null : { ...server };
  for (const entry of pending) data = applyChange(data, entry);
  return data;
}

/** Groups outbox entries by document key (`collection\0id`), keeping mutation id order. */
export function pendingByDoc(outbox: readonly OutboxEntry[]): Map<string, OutboxEntry[]> {
  const byDoc = new Map<string, OutboxEntry[]>();
  for (const entry of outbox) {
    const key = docKey(entry.collection, entry.id);
    const list = byDoc.get(key);
    if (list) list.push(entry);
    else byDoc.set(key, [entry]);
  }
  return byDoc;
}

/** The map key of a document. */
export function docKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}
