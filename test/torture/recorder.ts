/**
 * A recording local store: wraps a client's `LocalStore` and writes every batch the client stores
 * into its history (new outbox entries, settled answers, observed server states with their
 * checkpoint). The client library is used as is: its writes are the ground truth of what it did.
 */
import type { LocalStore, LocalWrite, RejectedChange } from '../../client/index.js';
import type { HistoryWriter, SeenDoc, WrittenChange } from './history.js';

type Meta = Extract<LocalWrite, { type: 'setMeta' }>;

const metaOf = (writes: readonly LocalWrite[], key: Meta['key']): Meta | undefined =>
  writes.find((w): w is Meta => w.type === 'setMeta' && w.key === key);

/** Records what `writes` are before they are stored (only new outbox entries need that: their ids must be known even if the process dies). */
function before(
  history: HistoryWriter,
  clientId: () => string,
  writes: readonly LocalWrite[],
): number[] | null {
  if (metaOf(writes, 'clientId')) return null; // a renumbering, recorded once stored
  const changes: WrittenChange[] = [];
  for (const w of writes) {
    if (w.type === 'appendOutbox')
      changes.push({
        m: w.entry.mutationId,
        c: w.entry.collection,
        id: w.entry.id,
        op: w.entry.op,
        data: w.entry.data,
      });
  }
  if (changes.length === 0) return null;
  history.add({ t: 'write', at: Date.now(), clientId: clientId(), changes });
  return changes.map((c) => c.m);
}

/** Records a stored batch (`last`: the checkpoint recorded last, so heartbeats that do not move it are not recorded). */
function after(
  history: HistoryWriter,
  previousId: string,
  writes: readonly LocalWrite[],
  written: number[] | null,
  last: { cp: string | null },
): void {
  const at = Date.now();
  if (written) return history.add({ t: 'committed', at, ms: written });
  const newId = metaOf(writes, 'clientId');
  if (newId) {
    const from = writes.flatMap((w) => (w.type === 'removeOutbox' ? w.mutationIds : []));
    const to = writes.flatMap((w) => (w.type === 'appendOutbox' ? [w.entry.mutationId] : []));
    return history.add({
      t: 'renumber',
      at,
      previous: previousId,
      clientId: String(newId.value),
      from,
      to,
    });
  }
  const removed = writes.flatMap((w) => (w.type === 'removeOutbox' ? w.mutationIds : []));
  const docs = writes.flatMap((w) => (w.type === 'putDoc' ? [w.doc] : []));
  if (removed.length > 0) {
    const gone = new Set(removed);
    const list = (metaOf(writes, 'rejected')?.value ?? []) as RejectedChange[];
    const rejected = list.map((r) => r.change.mutationId).filter((m) => gone.has(m));
    return history.add({
      t: 'settle',
      at,
      removed,
      rejected,
      docs: docs.map((d) => ({ c: d.collection, id: d.id, v: d.version })),
    });
  }
  const cp = metaOf(writes, 'checkpoint');
  const resync = metaOf(writes, 'resync');
  const seen: SeenDoc[] = docs.map((d) => ({
    c: d.collection,
    id: d.id,
    v: d.version,
    d: d.server,
  }));
  // The sweep at the end of a full resync: documents the export did not hold are dropped.
  for (const w of writes)
    if (w.type === 'deleteDoc') seen.push({ c: w.collection, id: w.id, v: null, d: null });
  const checkpoint = cp ? String(cp.value) : null;
  if (seen.length > 0)
    history.add({
      t: 'observe',
      at,
      cp: checkpoint,
      full: resync !== undefined && resync.value !== null,
      docs: seen,
    });
  if (checkpoint && resync && resync.value === null)
    history.add({ t: 'resynced', at, cp: checkpoint });
  else if (checkpoint && seen.length === 0 && checkpoint !== last.cp)
    history.add({ t: 'observe', at, cp: checkpoint, full: false, docs: [] });
  if (checkpoint) last.cp = checkpoint;
}

/**
 * `store` with every `write()` recorded into `history`. `clientId()` names the id the client uses
 * now (read from the store's meta by the caller).
 */
export function recordingStore(
  store: LocalStore,
  history: HistoryWriter,
  clientId: () => string,
): LocalStore {
  const last = { cp: null as string | null };
  const write = async (writes: LocalWrite[]): Promise<void> => {
    const previous = clientId();
    const written = before(history, clientId, writes);
    await store.write(writes);
    after(history, previous, writes, written, last);
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'write') return write;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
