/**
 * `indexedDbLocalStore(name, options?)`: the browser's local store, on `idb`. Three object stores
 * (documents, outbox, meta); one IndexedDB transaction per `write()`, so a crash, a closed tab or
 * a refused write leaves all of a batch or none of it. Documents are paged and counted by key
 * range and index, equality queries on declared fields answered from an index, and `exclusive()`
 * takes a Web Lock, so two tabs never hand out the same mutation id.
 */
import { wrap, type IDBPDatabase, type IDBPTransaction } from 'idb';
import {
  DEFAULT_PAGE,
  type DocQuery,
  type LocalDoc,
  type LocalMeta,
  type LocalStore,
  type LocalWrite,
  type OutboxEntry,
  type OutboxQuery,
} from '../local-store.js';
import { codePointKey } from '../../shared/order.js';
import { runQuery } from '../query.js';
import { serial } from '../serial.js';
import { IndexedDbStoreError, storeError } from './errors.js';
import { toRecord, whereKey, type DocRecord } from './records.js';

/**
 * The IndexedDB globals this store uses, typed structurally: not every app's tsconfig has the DOM
 * lib (React Native's does not), and this module must type-check there too.
 */
/** The `IDBKeyRange` class the store builds key ranges with (the global one, or fake-indexeddb's). */
export type IdbKeyRangeClass = {
  bound(lower: unknown, upper: unknown, lowerOpen?: boolean, upperOpen?: boolean): any;
  only(value: unknown): any;
  lowerBound(lower: unknown, open?: boolean): any;
};
/** An `indexedDB` factory (the global one, or fake-indexeddb's). */
export type IdbFactory = { open(name: string, version?: number): any };

/** Options of `indexedDbLocalStore`. */
export interface IndexedDbLocalStoreOptions {
  /** Fields to index per collection, so equality queries on them read only the matching documents. @default none */
  indexes?: Record<string, readonly string[]>;
  /** The IndexedDB factory. @default globalThis.indexedDB (tests pass fake-indexeddb's) */
  indexedDB?: IdbFactory;
  /** The key range class that goes with `indexedDB`. @default globalThis.IDBKeyRange */
  IDBKeyRange?: IdbKeyRangeClass;
  /** Called when another tab's newer version of this database waits for this one to close (it is closed at once). */
  onVersionChange?: () => void;
}

/** An IndexedDB-backed `LocalStore`; `database()` opens (or reopens) the raw `idb` database. */
export interface IndexedDbLocalStore extends LocalStore {
  readonly name: string;
  database(): Promise<IDBPDatabase>;
  close(): Promise<void>;
}

const STORES = ['docs', 'outbox', 'meta'] as const;
/** The index (on `DocRecord.o`) that pages documents in code point order; added to older databases by a version upgrade. */
const ORDER_INDEX = 'order';
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** A request whose failure is reported by its transaction (`tx.done`), not by itself. */
const quiet = (request: Promise<unknown>): void => void request.catch(() => undefined);

/**
 * Opens (creating or upgrading as needed) a local store in IndexedDB database `name`.
 *
 * @example
 * const client = createSyncClient({ api: trpc.sync, schema, store: indexedDbLocalStore('tasks-app', { indexes: { tasks: ['done'] } }) });
 */
export function indexedDbLocalStore(
  name: string,
  options: IndexedDbLocalStoreOptions = {},
): IndexedDbLocalStore {
  const fieldsOf = (collection: string): readonly string[] => options.indexes?.[collection] ?? [];
  const wanted = [...new Set(Object.values(options.indexes ?? {}).flat())].map((f) => `x_${f}`);
  let db: Promise<IDBPDatabase> | null = null;
  const local = serial();

  async function open(): Promise<IDBPDatabase> {
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IdbFactory }).indexedDB;
    if (!factory)
      throw new IndexedDbStoreError(
        'INDEXEDDB_UNAVAILABLE',
        `IndexedDB "${name}": this environment has no indexedDB (pass options.indexedDB)`,
      );
    const handlers = (d: IDBPDatabase) => {
      // Another tab upgrades the database: step aside (the next call reopens at the new version).
      d.addEventListener('versionchange', () => {
        d.close();
        db = null;
        options.onVersionChange?.();
      });
      return d;
    };
    const upgrade = (d: IDBPDatabase, tx: IDBPTransaction<unknown, string[], 'versionchange'>) => {
      if (!d.objectStoreNames.contains('docs'))
        d.createObjectStore('docs').createIndex('live', 'l');
      if (!d.objectStoreNames.contains('outbox'))
        d.createObjectStore('outbox', { keyPath: 'mutationId' }).createIndex('doc', [
          'collection',
          'id',
          'mutationId',
        ]);
      if (!d.objectStoreNames.contains('meta')) d.createObjectStore('meta');
      const docs = tx.objectStore('docs');
      const added = wanted.filter((index) => !docs.indexNames.contains(index));
      for (const index of added) docs.createIndex(index, index);
      // Databases made before ids were paged in code point order get the order index (and every record its key) here.
      const ordered = !docs.indexNames.contains(ORDER_INDEX);
      if (ordered) docs.createIndex(ORDER_INDEX, 'o');
      if (added.length > 0 || ordered) {
        // Index keys for documents stored before the index existed.
        void (async () => {
          for (let cursor = await docs.openCursor(); cursor; cursor = await cursor.continue()) {
            const record = cursor.value as DocRecord;
            quiet(cursor.update(toRecord(record.doc, fieldsOf(record.doc.collection))));
          }
        })();
      }
    };
    /** idb's openDB, on the given factory: upgrade in the versionchange transaction, `blocked` reported. */
    const openDB = (version?: number): Promise<IDBPDatabase> => {
      const request = version === undefined ? factory.open(name) : factory.open(name, version);
      request.onupgradeneeded = () =>
        upgrade(
          wrap(request.result),
          wrap(request.transaction!) as unknown as IDBPTransaction<
            unknown,
            string[],
            'versionchange'
          >,
        );
      request.onblocked = () => options.onVersionChange?.();
      return wrap(request) as unknown as Promise<IDBPDatabase>;
    };
    try {
      let d = await openDB();
      const docsIndexes = d.objectStoreNames.contains('docs')
        ? d.transaction('docs').store.indexNames
        : null;
      if (
        !docsIndexes ||
        !docsIndexes.contains(ORDER_INDEX) ||
        wanted.some((index) => !docsIndexes.contains(index)) ||
        STORES.some((s) => !d.objectStoreNames.contains(s))
      ) {
        const version = d.version + 1;
        d.close();
        d = await openDB(version);
      }
      return handlers(d);
    } catch (error) {
      throw storeError(error, name);
    }
  }

  const database = (): Promise<IDBPDatabase> => {
    db ??= open().catch((error) => {
      db = null;
      throw error;
    });
    return db;
  };

  /** Runs a read, translating IndexedDB failures. */
  async function read<T>(fn: (d: IDBPDatabase) => Promise<T>): Promise<T> {
    const d = await database();
    try {
      return await fn(d);
    } catch (error) {
      throw storeError(error, name);
    }
  }

  const KeyRange = (): IdbKeyRangeClass => {
    const k = options.IDBKeyRange ?? (globalThis as { IDBKeyRange?: IdbKeyRangeClass }).IDBKeyRange;
    if (!k)
      throw new IndexedDbStoreError(
        'INDEXEDDB_UNAVAILABLE',
        `IndexedDB "${name}": this environment has no IDBKeyRange (pass options.IDBKeyRange)`,
      );
    return k;
  };
  const range = (collection: string, after?: string) =>
    KeyRange().bound(
      after === undefined ? [collection] : [collection, after],
      [collection, []],
      after !== undefined,
      false,
    );
  /** A collection's documents after `after` in the `order` index (code point order of ids). */
  const orderRange = (collection: string, after?: string) =>
    range(collection, after === undefined ? undefined : codePointKey(after));

  async function write(writes: LocalWrite[]): Promise<void> {
    // Copy first: a value that is not JSON fails here, before the transaction starts.
    const prepared = writes.map((w) =>
      w.type === 'putDoc'
        ? { ...w, doc: clone(w.doc) }
        : w.type === 'appendOutbox'
          ? { ...w, entry: clone(w.entry) }
          : w.type === 'setMeta'
            ? { ...w, value: clone(w.value ?? null) }
            : w,
    ) as LocalWrite[];
    const d = await database();
    const tx = d.transaction(STORES, 'readwrite');
    try {
      const outbox = tx.objectStore('outbox');
      let last = 0;
      if (prepared.some((w) => w.type === 'appendOutbox')) {
        // Above the newest queued entry and above every id ever handed out (the stored counter), so
        // a tab that allocated from a stale counter (no cross-tab lock) is refused, not sent twice.
        const top = await outbox.openCursor(null, 'prev');
        const next = (await tx.objectStore('meta').get('nextMutationId')) as number | undefined;
        last = Math.max(top ? (top.key as number) : 0, typeof next === 'number' ? next - 1 : 0);
      }
      for (const w of prepared) {
        if (w.type === 'putDoc')
          quiet(
            tx
              .objectStore('docs')
              .put(toRecord(w.doc, fieldsOf(w.doc.collection)), [w.doc.collection, w.doc.id]),
          );
        else if (w.type === 'deleteDoc') quiet(tx.objectStore('docs').delete([w.collection, w.id]));
        else if (w.type === 'appendOutbox') {
          if (w.entry.mutationId <= last)
            throw new IndexedDbStoreError(
              'WRITE_FAILED',
              `outbox: mutation id ${w.entry.mutationId} is not above ${last}`,
            );
          last = w.entry.mutationId;
          quiet(outbox.add(w.entry));
        } else if (w.type === 'removeOutbox')
          for (const m of w.mutationIds) quiet(outbox.delete(m));
        else quiet(tx.objectStore('meta').put(w.value, w.key));
      }
      await tx.done;
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      await tx.done.catch(() => undefined);
      throw storeError(error, name);
    }
  }

  return {
    name,
    database,
    getDoc: (collection, id) =>
      read(
        async (d) =>
          ((await d.get('docs', [collection, id])) as DocRecord | undefined)?.doc ?? null,
      ),
    getDocs: (collection, ids) =>
      read(async (d) => {
        const store = d.transaction('docs').store;
        const records = (await Promise.all(ids.map((id) => store.get([collection, id])))) as (
          DocRecord | undefined
        )[];
        return records.map((r) => r?.doc ?? null);
      }),
    listDocs: (collection, page = {}) =>
      read(async (d) =>
        (
          (await d.getAllFromIndex(
            'docs',
            ORDER_INDEX,
            orderRange(collection, page.after),
            page.limit ?? DEFAULT_PAGE,
          )) as DocRecord[]
        ).map((r) => r.doc),
      ),
    countDocs: (collection) =>
      read((d) => d.countFromIndex('docs', 'live', KeyRange().only([collection, 1]))),
    queryDocs: (collection, query: DocQuery) =>
      read(async (d) => {
        const indexed = Object.entries(query.where ?? {}).find(([field]) =>
          fieldsOf(collection).includes(field),
        );
        const key = indexed ? whereKey(collection, indexed[1]) : null;
        const records = (
          indexed && key
            ? await d.getAllFromIndex('docs', `x_${indexed[0]}`, KeyRange().only(key))
            : await d.getAll('docs', range(collection))
        ) as DocRecord[];
        return runQuery(
          records.map((r) => r.doc),
          query,
        );
      }),
    listOutbox: (query: OutboxQuery = {}) =>
      read(async (d) => {
        const limit = query.limit ?? Infinity;
        const after = query.afterMutationId ?? 0;
        if (query.collection !== undefined && query.id !== undefined) {
          const entries = (await d.getAllFromIndex(
            'outbox',
            'doc',
            KeyRange().bound(
              [query.collection, query.id, after],
              [query.collection, query.id, Infinity],
              true,
              false,
            ),
          )) as OutboxEntry[];
          return entries.slice(0, limit);
        }
        const keys = KeyRange().lowerBound(after, true);
        if (query.collection === undefined)
          return (await d.getAll(
            'outbox',
            keys,
            Number.isFinite(limit) ? limit : undefined,
          )) as OutboxEntry[];
        const out: OutboxEntry[] = [];
        for (
          let cursor = await d.transaction('outbox').store.openCursor(keys);
          cursor && out.length < limit;
          cursor = await cursor.continue()
        ) {
          if ((cursor.value as OutboxEntry).collection === query.collection)
            out.push(cursor.value as OutboxEntry);
        }
        return out;
      }),
    countOutbox: () => read((d) => d.count('outbox')),
    getMeta: <K extends keyof LocalMeta>(key: K) =>
      read(async (d) => ((await d.get('meta', key)) ?? null) as LocalMeta[K] | null),
    write: (writes) => local(() => write(writes)),
    exclusive<T>(task: () => Promise<T>): Promise<T> {
      const locks = (
        globalThis as {
          navigator?: { locks?: { request(name: string, cb: () => Promise<T>): Promise<T> } };
        }
      ).navigator?.locks;
      return locks ? locks.request(`trpc-offline-sync:${name}`, task) : task();
    },
    async close() {
      const d = await db?.catch(() => null);
      d?.close();
      db = null;
    },
  };
}

export type { LocalDoc };
