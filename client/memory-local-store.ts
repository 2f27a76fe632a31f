/** `memoryLocalStore()`: a `LocalStore` in plain maps, for tests, demos and server-side rendering. */
import type { LocalDoc, LocalMeta, LocalStore, LocalWrite, OutboxEntry, OutboxQuery } from './local-store.js';

const keyOf = (collection: string, id: string) => `${collection}\u0000${id}`;
/** Documents are JSON, so a JSON round trip isolates callers from the store (and runs on Hermes, which lacks structuredClone). */
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

/** A `LocalStore` in memory; `snapshot()` exposes its contents for tests. */
export interface MemoryLocalStore extends LocalStore {
  snapshot(): { docs: LocalDoc[]; outbox: OutboxEntry[]; meta: Partial<LocalMeta> };
}

/**
 * Creates an in-memory local store (nothing survives the process).
 *
 * @example
 * const client = createSyncClient({ api: trpc.sync, schema, store: memoryLocalStore() });
 */
export function memoryLocalStore(): MemoryLocalStore {
  const docs = new Map<string, LocalDoc>();
  let outbox: OutboxEntry[] = [];
  const meta: Partial<LocalMeta> = {};

  /** Applies a batch to copies first, so a bad write leaves nothing half done. */
  function apply(writes: LocalWrite[]): void {
    const nextDocs = new Map(docs);
    let nextOutbox = outbox;
    const nextMeta: Partial<LocalMeta> = { ...meta };
    for (const w of writes) {
      if (w.type === 'putDoc') nextDocs.set(keyOf(w.doc.collection, w.doc.id), clone(w.doc));
      else if (w.type === 'deleteDoc') nextDocs.delete(keyOf(w.collection, w.id));
      else if (w.type === 'appendOutbox') {
        const last = nextOutbox[nextOutbox.length - 1];
        if (last && last.mutationId >= w.entry.mutationId) throw new Error(`outbox: mutation id ${w.entry.mutationId} is not above ${last.mutationId}`);
        nextOutbox = [...nextOutbox, clone(w.entry)];
      } else if (w.type === 'removeOutbox') {
        const gone = new Set(w.mutationIds);
        nextOutbox = nextOutbox.filter((e) => !gone.has(e.mutationId));
      } else (nextMeta as Record<string, unknown>)[w.key] = w.value;
    }
    docs.clear();
    for (const [k, v] of nextDocs) docs.set(k, v);
    outbox = nextOutbox;
    Object.assign(meta, nextMeta);
  }

  return {
    async getDoc(collection, id) {
      return clone(docs.get(keyOf(collection, id)) ?? null);
    },
    async listDocs(collection) {
      return [...docs.values()].filter((d) => collection === undefined || d.collection === collection).map(clone);
    },
    async listOutbox(query: OutboxQuery = {}) {
      const matching = outbox.filter(
        (e) => (query.collection === undefined || e.collection === query.collection) && (query.id === undefined || e.id === query.id),
      );
      return clone(query.limit === undefined ? matching : matching.slice(0, query.limit));
    },
    async getMeta(key) {
      return clone(meta[key] ?? null) as never;
    },
    async write(writes) {
      apply(writes);
    },
    snapshot() {
      return clone({ docs: [...docs.values()], outbox, meta });
    },
  };
}
