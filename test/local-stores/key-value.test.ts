/** The client-store conformance suite on `keyValueLocalStore` over a Map (with and without multi* methods), crash replay and write cost. */
import { describe, expect, it } from 'vitest';
import { type LocalStore } from '../../client/index.js';
import { keyValueLocalStore, type KeyValueStorage } from '../../client/key-value/index.js';
import { doc, entry, runLocalStoreConformance } from './conformance.js';

/** An AsyncStorage-like storage over a Map, counting the keys written and able to fail the Nth write from now. */
class MapStorage implements KeyValueStorage {
  readonly data = new Map<string, string>();
  writes = 0;
  bytes = 0;
  failAfter: number | null = null;
  private tick(): void {
    if (this.failAfter !== null && this.failAfter-- <= 0) {
      this.failAfter = null;
      throw new Error('storage failed (test)');
    }
  }
  async getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  async setItem(key: string, value: string) {
    this.tick();
    this.writes++;
    this.bytes += value.length;
    this.data.set(key, value);
  }
  async removeItem(key: string) {
    this.tick();
    this.data.delete(key);
  }
}

class MultiStorage extends MapStorage {
  async multiGet(keys: readonly string[]) {
    return keys.map((k) => [k, this.data.get(k) ?? null] as const);
  }
  async multiSet(pairs: readonly (readonly [string, string])[]) {
    for (const [k, v] of pairs) await this.setItem(k, v);
  }
  async multiRemove(keys: readonly string[]) {
    for (const k of keys) await this.removeItem(k);
  }
}

for (const [label, make] of [
  ['getItem/setItem only', () => new MapStorage()],
  ['with multiGet/multiSet/multiRemove', () => new MultiStorage()],
] as const) {
  const storages = new WeakMap<LocalStore, MapStorage>();
  runLocalStoreConformance({
    name: `key-value (${label})`,
    async open() {
      const kv = make();
      const store = keyValueLocalStore(kv);
      storages.set(store, kv);
      return store;
    },
    async reopen(store) {
      await store.close?.();
      const kv = storages.get(store)!;
      const again = keyValueLocalStore(kv);
      storages.set(again, kv);
      return again;
    },
    failNextWrite(store) {
      // Fails after the write-ahead record and a few applied keys: the failed call rejects, and the
      // next use replays the record, so the store ends exactly as the whole batch would leave it.
      storages.get(store)!.failAfter = 3;
    },
    skip: {
      'a storage failure part way through a batch leaves nothing':
        'a failure after the write-ahead record is finished on the next use (all of the batch, see the replay tests); one before it leaves nothing',
    },
  });
}

describe('keyValueLocalStore', () => {
  it('a crash before the write-ahead record is stored leaves nothing of the batch', async () => {
    const kv = new MapStorage();
    const store = keyValueLocalStore(kv);
    await store.write([{ type: 'putDoc', doc: doc('tasks', 'a', { v: 1 }) }]);
    kv.failAfter = 0; // the wal write itself fails
    await expect(
      store.write([
        { type: 'putDoc', doc: doc('tasks', 'b', { v: 1 }) },
        { type: 'appendOutbox', entry: entry(1) },
      ]),
    ).rejects.toThrow(/storage failed/);
    const reopened = keyValueLocalStore(kv);
    expect(await reopened.getDoc('tasks', 'b')).toBeNull();
    expect(await reopened.countOutbox()).toBe(0);
    expect(await reopened.countDocs('tasks')).toBe(1);
  });

  it('a crash after the write-ahead record is replayed on open: the whole batch, documents, outbox and indexes', async () => {
    const kv = new MapStorage();
    const store = keyValueLocalStore(kv);
    await store.write([{ type: 'putDoc', doc: doc('tasks', 'a', { v: 1 }) }]);
    kv.failAfter = 2; // the wal and one key are stored, then the "process dies"
    await expect(
      store.write([
        { type: 'putDoc', doc: doc('tasks', 'b', { v: 2 }) },
        { type: 'appendOutbox', entry: entry(1, 'tasks', 'b') },
        { type: 'setMeta', key: 'nextMutationId', value: 2 },
      ]),
    ).rejects.toThrow(/storage failed/);
    expect(kv.data.has('tos:wal')).toBe(true);
    const reopened = keyValueLocalStore(kv);
    expect((await reopened.getDoc('tasks', 'b'))?.data).toEqual({ v: 2 });
    expect(
      (await reopened.listOutbox({ collection: 'tasks', id: 'b' })).map((e) => e.mutationId),
    ).toEqual([1]);
    expect(await reopened.getMeta('nextMutationId')).toBe(2);
    expect(await reopened.countDocs('tasks')).toBe(2);
    expect((await reopened.listDocs('tasks')).map((d) => d.id)).toEqual(['a', 'b']);
    expect(kv.data.has('tos:wal')).toBe(false);
  });

  it('a write touches only the keys it changes, however many documents the store holds', async () => {
    const kv = new MultiStorage();
    const store = keyValueLocalStore(kv);
    for (let b = 0; b < 10; b++)
      await store.write(
        Array.from({ length: 500 }, (_, i) => ({
          type: 'putDoc' as const,
          doc: doc('tasks', `k${b * 500 + i}`, { i }),
        })),
      );
    kv.writes = 0;
    kv.bytes = 0;
    await store.write([
      { type: 'putDoc', doc: doc('tasks', 'new', { i: -1 }, { pending: true }) },
      { type: 'appendOutbox', entry: entry(1, 'tasks', 'new') },
      { type: 'setMeta', key: 'nextMutationId', value: 2 },
    ]);
    // wal + doc + one id bucket + live count + entry + outbox bucket + bucket list + per-doc outbox + meta
    expect(kv.writes).toBeLessThanOrEqual(10);
    expect(kv.bytes).toBeLessThan((5000 / 64) * 20 + 3000); // one id bucket (~1/64 of the ids), not the index
    kv.writes = 0;
    await store.write([{ type: 'putDoc', doc: doc('tasks', 'k7', { i: 70 }) }]); // an existing id: no index record
    expect(kv.writes).toBeLessThanOrEqual(2);
  });
});
