/** `memoryLocalStore()`: a `LocalStore` in plain maps, for tests, demos and server-side rendering; every operation costs what it touches. */
import {
  DEFAULT_PAGE,
  type LocalDoc,
  type LocalMeta,
  type LocalStore,
  type LocalWrite,
  type OutboxEntry,
  type OutboxQuery,
} from './local-store.js';
import { compareIds, runQuery } from './query.js';
import { docKey } from './rebase.js';

/** Documents are JSON, so a JSON round trip isolates callers from the store (and runs on Hermes, which lacks structuredClone). */
const clone = <T>(value: T): T =>
  value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);

/** A `LocalStore` in memory; `snapshot()` exposes its contents for tests. */
export interface MemoryLocalStore extends LocalStore {
  snapshot(): { docs: LocalDoc[]; outbox: OutboxEntry[]; meta: Partial<LocalMeta> };
}

/** One collection: documents by id, ids kept sorted for paging, and the live count. */
class DocTable {
  readonly byId = new Map<string, LocalDoc>();
  /** Ids in order; a new id is inserted at its place by binary search (a memmove, not a sort). */
  readonly ids: string[] = [];
  live = 0;

  /** Index of the first id not below `id`. */
  lowerBound(id: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.ids[mid]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  put(doc: LocalDoc): void {
    const old = this.byId.get(doc.id);
    if (old) this.live -= old.data !== null ? 1 : 0;
    else this.ids.splice(this.lowerBound(doc.id), 0, doc.id);
    this.byId.set(doc.id, doc);
    this.live += doc.data !== null ? 1 : 0;
  }

  delete(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    this.live -= old.data !== null ? 1 : 0;
    this.ids.splice(this.lowerBound(id), 1);
  }
}

/**
 * Creates an in-memory local store (nothing survives the process).
 *
 * @example
 * const client = createSyncClient({ api: trpc.sync, schema, store: memoryLocalStore() });
 */
export function memoryLocalStore(): MemoryLocalStore {
  const tables = new Map<string, DocTable>();
  /** Outbox entries by mutation id; ids only ever grow, so the map's insertion order is mutation id order. */
  const outbox = new Map<number, OutboxEntry>();
  /** Mutation ids of each document's outbox entries, in order. */
  const outboxByDoc = new Map<string, number[]>();
  const meta: Partial<LocalMeta> = {};
  let lastMutationId = 0;

  const table = (collection: string): DocTable => {
    let t = tables.get(collection);
    if (!t) tables.set(collection, (t = new DocTable()));
    return t;
  };

  /** Checks and copies the batch first, so a bad write leaves nothing half done; then applies it. */
  function apply(writes: LocalWrite[]): void {
    const prepared = writes.map((w): LocalWrite =>
      w.type === 'putDoc'
        ? { type: 'putDoc', doc: clone(w.doc) }
        : w.type === 'appendOutbox'
          ? { type: 'appendOutbox', entry: clone(w.entry) }
          : w.type === 'setMeta'
            ? ({ ...w, value: clone(w.value) } as LocalWrite)
            : w,
    );
    let last = lastMutationId;
    const removed = new Set<number>();
    for (const w of prepared) {
      if (w.type === 'removeOutbox') for (const m of w.mutationIds) removed.add(m);
      if (w.type !== 'appendOutbox') continue;
      if (w.entry.mutationId <= last)
        throw new Error(`outbox: mutation id ${w.entry.mutationId} is not above ${last}`);
      last = w.entry.mutationId;
    }
    for (const w of prepared) {
      if (w.type === 'putDoc') table(w.doc.collection).put(w.doc);
      else if (w.type === 'deleteDoc') tables.get(w.collection)?.delete(w.id);
      else if (w.type === 'appendOutbox') {
        outbox.set(w.entry.mutationId, w.entry);
        const key = docKey(w.entry.collection, w.entry.id);
        const list = outboxByDoc.get(key);
        if (list) list.push(w.entry.mutationId);
        else outboxByDoc.set(key, [w.entry.mutationId]);
        lastMutationId = w.entry.mutationId;
      } else if (w.type === 'removeOutbox') {
        for (const m of w.mutationIds) {
          const entry = outbox.get(m);
          if (!entry) continue;
          outbox.delete(m);
          const key = docKey(entry.collection, entry.id);
          const rest = outboxByDoc.get(key)!.filter((x) => x !== m);
          if (rest.length > 0) outboxByDoc.set(key, rest);
          else outboxByDoc.delete(key);
        }
      } else (meta as Record<string, unknown>)[w.key] = w.value;
    }
  }

  function* outboxEntries(query: OutboxQuery): Iterable<OutboxEntry> {
    if (query.collection !== undefined && query.id !== undefined) {
      for (const m of outboxByDoc.get(docKey(query.collection, query.id)) ?? [])
        yield outbox.get(m)!;
      return;
    }
    for (const entry of outbox.values())
      if (query.collection === undefined || entry.collection === query.collection) yield entry;
  }

  return {
    async getDoc(collection, id) {
      return clone(tables.get(collection)?.byId.get(id) ?? null);
    },
    async getDocs(collection, ids) {
      const t = tables.get(collection);
      return ids.map((id) => clone(t?.byId.get(id) ?? null));
    },
    async listDocs(collection, page = {}) {
      const t = tables.get(collection);
      if (!t) return [];
      const start =
        page.after === undefined ? 0 : t.lowerBound(page.after) + (t.byId.has(page.after) ? 1 : 0);
      return t.ids
        .slice(start, start + (page.limit ?? DEFAULT_PAGE))
        .map((id) => clone(t.byId.get(id)!));
    },
    async countDocs(collection) {
      return tables.get(collection)?.live ?? 0;
    },
    async queryDocs(collection, query) {
      const t = tables.get(collection);
      return t ? runQuery(t.byId.values(), query).map(clone) : [];
    },
    async listOutbox(query: OutboxQuery = {}) {
      const out: OutboxEntry[] = [];
      const limit = query.limit ?? Infinity;
      for (const entry of outboxEntries(query)) {
        if (out.length >= limit) break;
        if (query.afterMutationId === undefined || entry.mutationId > query.afterMutationId)
          out.push(clone(entry));
      }
      return out;
    },
    async countOutbox() {
      return outbox.size;
    },
    async getMeta(key) {
      return clone(meta[key] ?? null) as never;
    },
    async write(writes) {
      apply(writes);
    },
    snapshot() {
      const docs = [...tables.values()].flatMap((t) => t.ids.map((id) => t.byId.get(id)!));
      return clone({ docs, outbox: [...outbox.values()], meta });
    },
  };
}
