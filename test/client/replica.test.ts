/** The client's local writes (client/replica.ts) without a server: validation before anything is written, error messages naming the row, ids of 1–256 units, the shared-store clock, marks kept (kills replica.ts mutants the client suites left alive). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type SyncApi,
} from '../../client/index.js';
import { serial } from '../../client/serial.js';
import { defineSyncSchema } from '../../shared/schema.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
});
/** An api that is never reached: these tests only write locally. */
const offline: SyncApi = {
  push: { mutate: async () => Promise.reject(new TypeError('fetch failed')) },
  pull: { query: async () => Promise.reject(new TypeError('fetch failed')) },
  full: { query: async () => Promise.reject(new TypeError('fetch failed')) },
  stream: { subscribe: () => ({ unsubscribe() {} }) },
};
const clientOn = (store: LocalStore = memoryLocalStore()) =>
  createSyncClient({ api: offline, schema, store, clientId: 'dev1' });

describe('local writes', () => {
  it('refuses ids outside 1–256 units, writing nothing (an unknown collection is refused by collection() itself)', async () => {
    const client = clientOn();
    const tasks = client.collection('tasks');
    expect(() => (client.collection as (name: string) => typeof tasks)('nope')).toThrow(
      /collection "nope" is not in the schema/,
    );
    await expect(tasks.put('', { title: 'x' })).rejects.toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    await expect(tasks.put('x'.repeat(257), { title: 'x' })).rejects.toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
    expect(await client.pending()).toBe(0);
    await tasks.put('x'.repeat(256), { title: 'longest id' });
    expect(await client.pending()).toBe(1);
  });

  it('names the row of a batch in its error, and only in a batch', async () => {
    const client = clientOn();
    const tasks = client.collection('tasks');
    await tasks.put('a', { title: 'A' });
    await expect(tasks.patch('missing', { done: true })).rejects.toThrow(
      /^patch tasks\/missing: no such document/,
    );
    await expect(
      tasks.patchMany([
        { id: 'a', patch: { done: true } },
        { id: 'missing', patch: { done: true } },
      ]),
    ).rejects.toThrow(/^\[1\] patch tasks\/missing: no such document/);
    await expect(tasks.patch('a', { title: 5 as unknown as string })).rejects.toThrow(
      /^patch tasks\/a: title/,
    );
    await expect(
      tasks.putMany([
        { id: 'b', doc: { title: 'B' } },
        { id: 'c', doc: { title: 1 as unknown as string } },
      ]),
    ).rejects.toThrow(/^\[1\] /);
    await expect(tasks.put('c', { title: 1 as unknown as string })).rejects.toThrow(/^(?!\[)/);
    expect(await client.pending()).toBe(1);
  });

  it('on a store shared by tabs, stamps above the newest HLC another tab stored', async () => {
    const base = memoryLocalStore();
    const lock = serial();
    const shared: LocalStore = { ...base, exclusive: (task) => lock(task) };
    // A few seconds ahead of this clock (the HLC accepts a bounded drift).
    const future = `${new Date(Date.now() + 5000).toISOString().replace(/[-:]/g, '')}-0007-othertab`;
    const client = clientOn(shared);
    await client.collection('tasks').put('a', { title: 'A' }); // this tab's clock is running
    await shared.write([{ type: 'setMeta', key: 'hlc', value: future }]); // another tab wrote later, with a faster clock
    await client.collection('tasks').put('b', { title: 'B' });
    const entries = await shared.listOutbox();
    expect(entries.map((e) => e.id)).toEqual(['a', 'b']);
    expect(entries[1]!.hlc > future).toBe(true);
  });

  it("keeps a document's resync mark through a local write", async () => {
    const store = memoryLocalStore();
    await store.write([
      {
        type: 'putDoc',
        doc: {
          collection: 'tasks',
          id: 'a',
          data: { title: 'A', done: false },
          version: null,
          server: null,
          mark: 'r1',
        },
      },
    ]);
    const client = clientOn(store);
    await client.collection('tasks').patch('a', { done: true });
    expect((await store.getDoc('tasks', 'a'))?.mark).toBe('r1');
  });
});
