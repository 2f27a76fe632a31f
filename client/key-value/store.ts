/**
 * `keyValueLocalStore(kv)`: a `LocalStore` over AsyncStorage-like key-value APIs. One key per
 * document, outbox entry and meta value, plus small index records; a write touches only the keys
 * it changes. Atomic through a write-ahead record: a batch's final key values are written to one
 * `wal` key first, then applied, then the `wal` key is removed; opening the store replays a `wal`
 * key left by a crash (it holds final values, so replaying twice is harmless).
 */
import {
  DEFAULT_PAGE,
  type LocalDoc,
  type LocalMeta,
  type LocalStore,
  type LocalWrite,
  type OutboxEntry,
  type OutboxQuery,
} from '../local-store.js';
import { compareIds, runQuery } from '../query.js';
import { docKey } from '../rebase.js';
import { serial } from '../serial.js';

/** The key-value API: AsyncStorage's shape (`multi*` used when present). */
export interface KeyValueStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
  multiGet?(keys: readonly string[]): Promise<readonly (readonly [string, string | null])[]>;
  multiSet?(pairs: readonly (readonly [string, string])[]): Promise<void>;
  multiRemove?(keys: readonly string[]): Promise<void>;
}

/** Options of `keyValueLocalStore`. */
export interface KeyValueLocalStoreOptions {
  /** Prefix of every key, so one storage can hold several stores. @default 'tos:' */
  prefix?: string;
  /** Id-index buckets per collection (each rewritten only when a batch adds or removes one of its ids). @default 64 */
  buckets?: number;
}

const OUTBOX_BUCKET = 1000;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function insertSorted(list: string[], id: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(list[mid]!, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== id) list.splice(lo, 0, id);
}

/**
 * Opens a local store on `kv`. The id indexes are read once, on first use, and kept in memory
 * (ids only, never documents); documents and outbox entries are read by key.
 *
 * @example
 * import AsyncStorage from '@react-native-async-storage/async-storage';
 * const store = keyValueLocalStore(AsyncStorage);
 */
export function keyValueLocalStore(
  kv: KeyValueStorage,
  options: KeyValueLocalStoreOptions = {},
): LocalStore {
  const p = options.prefix ?? 'tos:';
  const bucketCount = options.buckets ?? 64;
  const K = {
    wal: `${p}wal`,
    collections: `${p}collections`,
    doc: (c: string, id: string) => `${p}d:${c}:${id}`,
    ids: (c: string, b: number) => `${p}i:${c}:${b}`,
    live: (c: string) => `${p}c:${c}`,
    entry: (m: number) => `${p}o:${m}`,
    outboxBuckets: `${p}ob`,
    outboxBucket: (b: number) => `${p}ob:${b}`,
    docOutbox: (c: string, id: string) => `${p}od:${c}:${id}`,
    meta: (k: string) => `${p}m:${k}`,
  };
  const local = serial();

  const getMany = async (keys: readonly string[]): Promise<(string | null)[]> => {
    if (kv.multiGet) {
      const found = new Map(await kv.multiGet(keys));
      return keys.map((k) => found.get(k) ?? null);
    }
    return Promise.all(keys.map((k) => kv.getItem(k)));
  };
  const apply = async (changes: readonly (readonly [string, string | null])[]): Promise<void> => {
    const sets = changes.filter((c): c is readonly [string, string] => c[1] !== null);
    const removes = changes.filter((c) => c[1] === null).map((c) => c[0]);
    if (sets.length > 0) {
      if (kv.multiSet) await kv.multiSet(sets);
      else for (const [k, v] of sets) await kv.setItem(k, v);
    }
    if (removes.length > 0) {
      if (kv.multiRemove) await kv.multiRemove(removes);
      else for (const k of removes) await kv.removeItem(k);
    }
  };

  /** In-memory indexes, loaded once: sorted ids and live counts per collection, outbox ids in order and per document. */
  interface State {
    collections: Set<string>;
    ids: Map<string, string[]>;
    live: Map<string, number>;
    outbox: number[];
    outboxBuckets: Set<number>;
    byDoc: Map<string, number[]>;
  }
  let state: Promise<State> | null = null;

  async function load(): Promise<State> {
    const wal = await kv.getItem(K.wal);
    if (wal) {
      // A crash after the write-ahead record was stored: finish that batch.
      await apply(JSON.parse(wal) as [string, string | null][]);
      await kv.removeItem(K.wal);
    }
    const collections = new Set<string>(
      JSON.parse((await kv.getItem(K.collections)) ?? '[]') as string[],
    );
    const ids = new Map<string, string[]>();
    const live = new Map<string, number>();
    for (const c of collections) {
      const buckets = await getMany(Array.from({ length: bucketCount }, (_, b) => K.ids(c, b)));
      const all = buckets.flatMap((raw) => (raw ? (JSON.parse(raw) as string[]) : []));
      ids.set(c, all.sort(compareIds));
      live.set(c, Number((await kv.getItem(K.live(c))) ?? 0));
    }
    const outboxBuckets = new Set<number>(
      JSON.parse((await kv.getItem(K.outboxBuckets)) ?? '[]') as number[],
    );
    const raws = await getMany([...outboxBuckets].map((b) => K.outboxBucket(b)));
    const outbox = raws
      .flatMap((raw) => (raw ? (JSON.parse(raw) as number[]) : []))
      .sort((a, b) => a - b);
    const entries = await getMany(outbox.map((m) => K.entry(m)));
    const byDoc = new Map<string, number[]>();
    entries.forEach((raw, i) => {
      if (!raw) return;
      const e = JSON.parse(raw) as OutboxEntry;
      const key = docKey(e.collection, e.id);
      byDoc.set(key, [...(byDoc.get(key) ?? []), outbox[i]!]);
    });
    return { collections, ids, live, outbox, outboxBuckets, byDoc };
  }
  const ready = (): Promise<State> => {
    state ??= load().catch((error) => {
      state = null;
      throw error;
    });
    return state;
  };

  const parseDoc = (raw: string | null): LocalDoc | null =>
    raw ? (JSON.parse(raw) as LocalDoc) : null;

  async function write(writes: LocalWrite[]): Promise<void> {
    const s = await ready();
    // Plan every key change on copies of the indexes; nothing is stored until the plan is complete.
    const changes = new Map<string, string | null>();
    const ids = new Map<string, string[]>();
    const live = new Map(s.live);
    const collections = new Set(s.collections);
    const touchedBuckets = new Map<string, Set<number>>();
    let outbox = s.outbox;
    const outboxBuckets = new Set(s.outboxBuckets);
    const touchedOutbox = new Set<number>();
    const byDoc = new Map<string, number[]>();
    const idsOf = (c: string) => {
      let list = ids.get(c);
      if (!list) ids.set(c, (list = [...(s.ids.get(c) ?? [])]));
      return list;
    };
    const docOutbox = (c: string, id: string) => {
      const key = docKey(c, id);
      let list = byDoc.get(key);
      if (!list) byDoc.set(key, (list = [...(s.byDoc.get(key) ?? [])]));
      return list;
    };
    const present = new Map<string, LocalDoc | null>();
    const current = async (c: string, id: string): Promise<LocalDoc | null> => {
      const key = docKey(c, id);
      if (!present.has(key)) present.set(key, parseDoc(await kv.getItem(K.doc(c, id))));
      return present.get(key)!;
    };
    let last = s.outbox.at(-1) ?? 0;
    for (const w of writes) {
      if (w.type === 'putDoc' || w.type === 'deleteDoc') {
        const c = w.type === 'putDoc' ? w.doc.collection : w.collection;
        const id = w.type === 'putDoc' ? w.doc.id : w.id;
        const before = await current(c, id);
        const after = w.type === 'putDoc' ? (JSON.parse(JSON.stringify(w.doc)) as LocalDoc) : null;
        live.set(c, (live.get(c) ?? 0) - (before?.data ? 1 : 0) + (after?.data ? 1 : 0));
        if (!before !== !after) {
          const list = idsOf(c);
          if (after) insertSorted(list, id);
          else list.splice(list.indexOf(id), 1);
          let set = touchedBuckets.get(c);
          if (!set) touchedBuckets.set(c, (set = new Set()));
          set.add(hash(id) % bucketCount);
        }
        collections.add(c);
        present.set(docKey(c, id), after);
        changes.set(K.doc(c, id), after ? JSON.stringify(after) : null);
      } else if (w.type === 'appendOutbox') {
        if (w.entry.mutationId <= last)
          throw new Error(`outbox: mutation id ${w.entry.mutationId} is not above ${last}`);
        last = w.entry.mutationId;
        if (outbox === s.outbox) outbox = [...s.outbox];
        outbox.push(w.entry.mutationId);
        const b = Math.floor(w.entry.mutationId / OUTBOX_BUCKET);
        outboxBuckets.add(b);
        touchedOutbox.add(b);
        docOutbox(w.entry.collection, w.entry.id).push(w.entry.mutationId);
        changes.set(K.entry(w.entry.mutationId), JSON.stringify(w.entry));
      } else if (w.type === 'removeOutbox') {
        const gone = new Set(w.mutationIds.filter((m) => outbox.includes(m)));
        if (gone.size === 0) continue;
        const entries = await getMany([...gone].map((m) => K.entry(m)));
        for (const raw of entries) {
          if (!raw) continue;
          const e = JSON.parse(raw) as OutboxEntry;
          const list = docOutbox(e.collection, e.id);
          list.splice(list.indexOf(e.mutationId), 1);
        }
        outbox = outbox.filter((m) => !gone.has(m));
        for (const m of gone) {
          touchedOutbox.add(Math.floor(m / OUTBOX_BUCKET));
          changes.set(K.entry(m), null);
        }
      } else changes.set(K.meta(w.key), w.value === null ? null : JSON.stringify(w.value));
    }
    for (const [c, buckets] of touchedBuckets) {
      const list = idsOf(c);
      for (const b of buckets) {
        const members = list.filter((id) => hash(id) % bucketCount === b);
        changes.set(K.ids(c, b), members.length > 0 ? JSON.stringify(members) : null);
      }
    }
    for (const c of collections)
      if ((live.get(c) ?? 0) !== (s.live.get(c) ?? 0))
        changes.set(K.live(c), String(live.get(c) ?? 0));
    if (collections.size !== s.collections.size)
      changes.set(K.collections, JSON.stringify([...collections]));
    for (const b of touchedOutbox) {
      const members = outbox.filter((m) => Math.floor(m / OUTBOX_BUCKET) === b);
      changes.set(K.outboxBucket(b), members.length > 0 ? JSON.stringify(members) : null);
      if (members.length === 0) outboxBuckets.delete(b);
    }
    if (touchedOutbox.size > 0) changes.set(K.outboxBuckets, JSON.stringify([...outboxBuckets]));
    for (const [key, list] of byDoc) {
      const [c, id] = key.split('\u0000') as [string, string];
      changes.set(K.docOutbox(c, id), list.length > 0 ? JSON.stringify(list) : null);
    }
    if (changes.size === 0) return;
    const plan = [...changes];
    await kv.setItem(K.wal, JSON.stringify(plan));
    await apply(plan);
    await kv.removeItem(K.wal);
    // Stored: the in-memory indexes take the new state.
    for (const [c, list] of ids) s.ids.set(c, list);
    s.live = live;
    s.collections = collections;
    s.outbox = outbox;
    s.outboxBuckets = outboxBuckets;
    for (const [key, list] of byDoc) {
      if (list.length > 0) s.byDoc.set(key, list);
      else s.byDoc.delete(key);
    }
  }

  /** A failed write leaves the in-memory indexes unsure: reload them (and replay the wal) on next use. */
  const guarded = async (writes: LocalWrite[]) => {
    try {
      await write(writes);
    } catch (error) {
      state = null;
      throw error;
    }
  };

  return {
    async getDoc(collection, id) {
      await ready();
      return parseDoc(await kv.getItem(K.doc(collection, id)));
    },
    async getDocs(collection, ids) {
      await ready();
      return (await getMany(ids.map((id) => K.doc(collection, id)))).map(parseDoc);
    },
    async listDocs(collection, page = {}) {
      const s = await ready();
      const list = s.ids.get(collection) ?? [];
      let start = 0;
      if (page.after !== undefined) {
        const after = page.after;
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareIds(list[mid]!, after) <= 0) lo = mid + 1;
          else hi = mid;
        }
        start = lo;
      }
      const ids = list.slice(start, start + (page.limit ?? DEFAULT_PAGE));
      return (await getMany(ids.map((id) => K.doc(collection, id))))
        .map(parseDoc)
        .filter((d): d is LocalDoc => d !== null);
    },
    async countDocs(collection) {
      return (await ready()).live.get(collection) ?? 0;
    },
    async queryDocs(collection, query) {
      const s = await ready();
      const ids = s.ids.get(collection) ?? [];
      const docs = (await getMany(ids.map((id) => K.doc(collection, id))))
        .map(parseDoc)
        .filter((d): d is LocalDoc => d !== null);
      return runQuery(docs, query);
    },
    async listOutbox(query: OutboxQuery = {}) {
      const s = await ready();
      let ids =
        query.collection !== undefined && query.id !== undefined
          ? (s.byDoc.get(docKey(query.collection, query.id)) ?? [])
          : s.outbox;
      if (query.afterMutationId !== undefined) ids = ids.filter((m) => m > query.afterMutationId!);
      const out: OutboxEntry[] = [];
      const limit = query.limit ?? Infinity;
      for (let i = 0; i < ids.length && out.length < limit; i += 200) {
        const raws = await getMany(ids.slice(i, i + 200).map((m) => K.entry(m)));
        for (const raw of raws) {
          if (!raw || out.length >= limit) continue;
          const e = JSON.parse(raw) as OutboxEntry;
          if (query.collection === undefined || e.collection === query.collection) out.push(e);
        }
      }
      return out;
    },
    async countOutbox() {
      return (await ready()).outbox.length;
    },
    async getMeta<Key extends keyof LocalMeta>(key: Key) {
      await ready();
      const raw = await kv.getItem(K.meta(key));
      return (raw === null ? null : JSON.parse(raw)) as LocalMeta[Key] | null;
    },
    write: (writes) => local(() => guarded(writes)),
    async close() {
      state = null;
    },
  };
}
