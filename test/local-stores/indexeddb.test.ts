/** The client-store conformance suite on `indexedDbLocalStore` through fake-indexeddb, plus declared indexes, upgrades and clear failures. */
// The globals idb's wrappers check (IDBRequest, IDBDatabase, …); each test still gets its own factory.
import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { type LocalStore } from '../../client/index.js';
import {
  indexedDbLocalStore,
  IndexedDbStoreError,
  type IndexedDbLocalStore,
} from '../../client/indexeddb/index.js';
import { CODE_POINT_ORDER, doc, entry, runLocalStoreConformance } from './conformance.js';

const factory = new IDBFactory();
let n = 0;
const names = new WeakMap<LocalStore, string>();

runLocalStoreConformance({
  name: 'indexeddb (fake-indexeddb)',
  async open() {
    const name = `db-${++n}`;
    const store = indexedDbLocalStore(name, {
      indexedDB: factory,
      IDBKeyRange,
      indexes: { tasks: ['done', 'owner', 'priority'] },
    });
    names.set(store, name);
    return store;
  },
  async reopen(store) {
    await (store as IndexedDbLocalStore).close();
    const again = indexedDbLocalStore(names.get(store)!, {
      indexedDB: factory,
      IDBKeyRange,
      indexes: { tasks: ['done', 'owner', 'priority'] },
    });
    names.set(again, names.get(store)!);
    return again;
  },
  /** The second object-store put of the next write throws (as a full disk would), after the first was issued in the same transaction. */
  failNextWrite() {
    const realPut = IDBObjectStore.prototype.put;
    let puts = 0;
    IDBObjectStore.prototype.put = function (
      this: IDBObjectStore,
      ...args: Parameters<typeof realPut>
    ) {
      if (++puts === 2) {
        IDBObjectStore.prototype.put = realPut;
        throw Object.assign(new Error('disk failure (test)'), { name: 'UnknownError' });
      }
      return realPut.apply(this, args);
    };
  },
});

describe('indexedDbLocalStore', () => {
  it('answers equality on a declared field from its index, and indexes documents stored before the index was declared', async () => {
    const f = new IDBFactory();
    const plain = indexedDbLocalStore('idx', { indexedDB: f, IDBKeyRange });
    await plain.write(
      [
        doc('tasks', 'a', { done: true, n: 1 }),
        doc('tasks', 'b', { done: false, n: 1 }),
        doc('tasks', 'c', { done: 1 as unknown as boolean }),
      ].map((d) => ({ type: 'putDoc' as const, doc: d })),
    );
    await plain.close();
    const indexed = indexedDbLocalStore('idx', {
      indexedDB: f,
      IDBKeyRange,
      indexes: { tasks: ['done'] },
    });
    const db = await indexed.database();
    expect([...db.transaction('docs').store.indexNames]).toContain('x_done');
    expect((await indexed.queryDocs('tasks', { where: { done: true } })).map((d) => d.id)).toEqual([
      'a',
    ]);
    expect(
      (await indexed.queryDocs('tasks', { where: { done: false, n: 1 } })).map((d) => d.id),
    ).toEqual(['b']);
    await indexed.close();
  });

  it('refuses a mutation id the stored counter has already handed out, even once its entry was pushed and removed (a tab without the cross-tab lock)', async () => {
    const store = indexedDbLocalStore('counter', { indexedDB: new IDBFactory(), IDBKeyRange });
    await store.write([
      { type: 'appendOutbox', entry: entry(5) },
      { type: 'setMeta', key: 'nextMutationId', value: 6 },
    ]);
    await store.write([{ type: 'removeOutbox', mutationIds: [5] }]);
    // A second tab read the counter before the first wrote, and allocated 5 again.
    await expect(
      store.write([
        { type: 'appendOutbox', entry: entry(5, 'tasks', 'other') },
        { type: 'setMeta', key: 'nextMutationId', value: 6 },
      ]),
    ).rejects.toThrow(/mutation id 5 is not above 5/);
    expect(await store.countOutbox()).toBe(0);
    await store.write([
      { type: 'appendOutbox', entry: entry(6) },
      { type: 'setMeta', key: 'nextMutationId', value: 7 },
    ]);
    expect((await store.listOutbox()).map((e) => e.mutationId)).toEqual([6]);
    await store.close();
  });

  it('surfaces a full quota as a clear error, and the batch is not stored', async () => {
    const f = new IDBFactory();
    const store = indexedDbLocalStore('quota', { indexedDB: f, IDBKeyRange });
    await store.write([{ type: 'putDoc', doc: doc('tasks', 'a', { v: 1 }) }]);
    // The storage layer refuses the document put (as a browser does at its quota), after the outbox add went in.
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (
      this: IDBObjectStore,
      ...args: Parameters<typeof realPut>
    ) {
      if (this.name === 'docs')
        throw Object.assign(new Error('The quota has been exceeded.'), {
          name: 'QuotaExceededError',
        });
      return realPut.apply(this, args);
    };
    let error: unknown;
    try {
      error = await store
        .write([
          {
            type: 'appendOutbox',
            entry: {
              mutationId: 1,
              collection: 'tasks',
              id: 'b',
              op: 'upsert',
              data: {},
              baseVersion: null,
              hlc: '20260502T120000.000Z-0001-a1b2',
            },
          },
          { type: 'putDoc', doc: doc('tasks', 'b', { v: 1 }) },
        ])
        .catch((e: unknown) => e);
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    expect(error).toBeInstanceOf(IndexedDbStoreError);
    expect((error as IndexedDbStoreError).code).toBe('QUOTA_EXCEEDED');
    expect(await store.countOutbox()).toBe(0);
    expect(await store.getDoc('tasks', 'b')).toBeNull();
    await store.close();
  });

  it('says clearly when there is no IndexedDB', async () => {
    const store = indexedDbLocalStore('none', { indexedDB: undefined });
    const saved = (globalThis as { indexedDB?: unknown }).indexedDB;
    delete (globalThis as { indexedDB?: unknown }).indexedDB;
    try {
      await expect(store.getDoc('tasks', 'a')).rejects.toThrow(/no indexedDB/);
    } finally {
      if (saved) (globalThis as { indexedDB?: unknown }).indexedDB = saved;
    }
  });

  it('upgrades a database made before the order index: existing documents page in code point order', async () => {
    const f = new IDBFactory();
    // The layout earlier versions wrote: docs keyed [collection, id] with a `live` index, records { k, l, doc }, no `order` index.
    await new Promise<void>((resolve, reject) => {
      const request = f.open('legacy', 1);
      request.onupgradeneeded = () => {
        const d = request.result;
        const docs = d.createObjectStore('docs');
        docs.createIndex('live', 'l');
        d.createObjectStore('outbox', { keyPath: 'mutationId' }).createIndex('doc', [
          'collection',
          'id',
          'mutationId',
        ]);
        d.createObjectStore('meta');
        for (const id of [...CODE_POINT_ORDER].reverse())
          docs.put({ k: ['tasks', id], l: ['tasks', 1], doc: doc('tasks', id, { id }) }, [
            'tasks',
            id,
          ]);
      };
      request.onsuccess = () => {
        request.result.close();
        resolve();
      };
      request.onerror = () => reject(request.error);
    });
    const store = indexedDbLocalStore('legacy', { indexedDB: f, IDBKeyRange });
    expect((await store.listDocs('tasks')).map((d) => d.id)).toEqual(CODE_POINT_ORDER);
    expect((await store.listDocs('tasks', { after: '\uff01', limit: 2 })).map((d) => d.id)).toEqual(
      ['\uff01!', '\uffff'],
    );
    const db = await store.database();
    expect(db.version).toBe(2);
    expect([...db.transaction('docs').store.indexNames]).toContain('order');
    await store.write([{ type: 'putDoc', doc: doc('tasks', '\u{1f601}', { id: 'new' }) }]);
    expect((await store.listDocs('tasks', { after: '😀!' })).map((d) => d.id)).toEqual([
      '\u{1f601}',
      '\u{10ffff}',
    ]);
    expect(await store.countDocs('tasks')).toBe(CODE_POINT_ORDER.length + 1);
    await store.close();
  });

  it('closes when another tab upgrades the database, and reopens on the next call', async () => {
    const f = new IDBFactory();
    let told = 0;
    const first = indexedDbLocalStore('shared', {
      indexedDB: f,
      IDBKeyRange,
      onVersionChange: () => told++,
    });
    await first.write([{ type: 'putDoc', doc: doc('tasks', 'a', { v: 1 }) }]);
    const second = indexedDbLocalStore('shared', {
      indexedDB: f,
      IDBKeyRange,
      indexes: { tasks: ['v'] },
    });
    expect(await second.countDocs('tasks')).toBe(1); // the upgrade was not blocked by the first connection
    expect(told).toBe(1);
    expect((await first.getDoc('tasks', 'a'))?.data).toEqual({ v: 1 });
    await first.close();
    await second.close();
  });
});
