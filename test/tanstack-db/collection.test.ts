/**
 * `trpc-offline-sync/tanstack-db` against a real server: TanStack DB collections over two live
 * devices, live queries following the other device, writes through the outbox exactly once,
 * refused writes rolled back and server decisions reflected back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createLiveQueryCollection, eq } from '@tanstack/db';
import type { ConflictEvent, SyncClient } from '../../client/index.js';
import type { SyncSchema } from '../../shared/schema.js';
import { syncCollectionOptions } from '../../tanstack-db/index.js';
import {
  eventually,
  looseSchema,
  serverStoreCases,
  startClientServer,
  type ClientTestServer,
} from '../client/harness.js';

for (const storeCase of await serverStoreCases()) {
  describe(`server on ${storeCase.name}`, () => {
    let server: ClientTestServer;
    beforeAll(async () => {
      server = await startClientServer({ store: storeCase });
    });
    afterAll(async () => {
      await server?.close();
    });

    /** A ready TanStack collection over `client`'s `tasks`. */
    async function tasksOf<
      S extends SyncSchema,
      K extends keyof S['collections'] & string = 'tasks',
    >(client: SyncClient<S>, id: string, name = 'tasks' as K) {
      const collection = createCollection(syncCollectionOptions({ client, collection: name, id }));
      await collection.preload();
      return collection;
    }

    /** A row without TanStack's virtual fields (`$synced`, `$origin`, …). */
    function plain(row: object | undefined): Record<string, unknown> | undefined {
      return (
        row && Object.fromEntries(Object.entries(row).filter(([field]) => !field.startsWith('$')))
      );
    }

    /** The rows of a collection by id, without virtual fields. */
    function rowsOf(collection: { toArray: readonly object[] }): Record<string, unknown> {
      const rows = collection.toArray.map((r) => plain(r) as { id: string });
      return Object.fromEntries(rows.sort((x, y) => (x.id < y.id ? -1 : 1)).map((r) => [r.id, r]));
    }

    describe('tanstack-db collection options', () => {
      it('starts from the local store', async () => {
        const a = await server.device('t-tsd-initial', 'a');
        await a.client.collection('tasks').putMany([
          { id: 'i1', doc: { title: 'one' } },
          { id: 'i2', doc: { title: 'two', done: true } },
        ]);
        await a.client.collection('tasks').put('i3', { title: 'gone' });
        await a.client.collection('tasks').delete('i3');
        const tasks = await tasksOf(a.client, 'initial-a');
        expect(tasks.status).toBe('ready');
        expect(rowsOf(tasks)).toEqual({
          i1: { id: 'i1', title: 'one', done: false },
          i2: { id: 'i2', title: 'two', done: true },
        });
      });

      it("follows the other device live: B's live query updates on A's insert, update and delete; A's writes reach the server exactly once", async () => {
        const a = await server.device('t-tsd-live', 'a');
        const b = await server.device('t-tsd-live', 'b');
        await a.client.start();
        await b.client.start();
        const tasksA = await tasksOf(a.client, 'live-a');
        const tasksB = await tasksOf(b.client, 'live-b');
        const openB = createLiveQueryCollection({
          startSync: true,
          query: (q) =>
            q
              .from({ t: tasksB })
              .where(({ t }) => eq(t.done, false))
              .select(({ t }) => ({ id: t.id, title: t.title })),
        });
        await openB.preload();
        expect(openB.toArray.map(plain)).toEqual([]);

        const inserted = tasksA.insert({ id: 'l1', title: 'Buy milk', done: false });
        expect(plain(tasksA.get('l1'))).toEqual({ id: 'l1', title: 'Buy milk', done: false }); // optimistic at once
        await inserted.isPersisted.promise;
        expect(await a.client.collection('tasks').get('l1')).toEqual({
          title: 'Buy milk',
          done: false,
        }); // in the local store
        await eventually(() =>
          expect(openB.toArray.map(plain)).toEqual([{ id: 'l1', title: 'Buy milk' }]),
        );

        tasksA.insert({ id: 'l2', title: 'Bread', done: false });
        await eventually(() => expect(openB.toArray.map((r) => r.id).sort()).toEqual(['l1', 'l2']));

        await tasksA.update('l1', (draft) => {
          draft.done = true;
          draft.tags = ['shop'];
        }).isPersisted.promise;
        await eventually(() =>
          expect(openB.toArray.map(plain)).toEqual([{ id: 'l2', title: 'Bread' }]),
        );
        expect(plain(tasksB.get('l1'))).toEqual({
          id: 'l1',
          title: 'Buy milk',
          done: true,
          tags: ['shop'],
        });

        await tasksA.update('l1', (draft) => {
          delete draft.tags; // a removed field is removed on the other device too
        }).isPersisted.promise;
        await eventually(() =>
          expect(plain(tasksB.get('l1'))).toEqual({ id: 'l1', title: 'Buy milk', done: true }),
        );

        await tasksA.delete('l2').isPersisted.promise;
        await eventually(() => expect(openB.toArray.map(plain)).toEqual([]));
        await eventually(() => expect(tasksB.has('l2')).toBe(false));

        await eventually(async () => expect(await a.client.pending()).toBe(0));
        expect((await server.oplog('t-tsd-live', 'a')).map((e) => [e.mutationId, e.id])).toEqual([
          [1, 'l1'],
          [2, 'l2'],
          [3, 'l1'],
          [4, 'l1'],
          [5, 'l2'],
        ]);
        expect(rowsOf(tasksA)).toEqual(rowsOf(tasksB));

        // And back: B's write shows on A.
        tasksB.insert({ id: 'l3', title: 'from B', done: false });
        await eventually(() =>
          expect(plain(tasksA.get('l3'))).toEqual({ id: 'l3', title: 'from B', done: false }),
        );
        expect((await server.oplog('t-tsd-live', 'b')).map((e) => e.id)).toEqual(['l3']);
      });

      it('rolls back an insert or update the schema refuses (nothing in the outbox)', async () => {
        const a = await server.device('t-tsd-invalid', 'a');
        await a.client.start();
        const tasks = await tasksOf(a.client, 'invalid-a');
        await tasks.insert({ id: 'v1', title: 'valid', done: false }).isPersisted.promise;
        await eventually(async () => expect(await a.client.pending()).toBe(0));

        const bad = tasks.insert({ id: 'v2', title: 42 as unknown as string, done: false });
        expect(tasks.has('v2')).toBe(true); // optimistic
        await expect(bad.isPersisted.promise).rejects.toThrow(/title/);
        expect(tasks.has('v2')).toBe(false);
        expect(bad.state).toBe('failed');

        const badUpdate = tasks.update('v1', (draft) => {
          draft.priority = 1.5; // not an integer
        });
        expect(tasks.get('v1')?.priority).toBe(1.5);
        await expect(badUpdate.isPersisted.promise).rejects.toThrow(/priority/);
        expect(plain(tasks.get('v1'))).toEqual({ id: 'v1', title: 'valid', done: false });

        // A transaction of several rows is all or nothing: one refused row rolls back all of them.
        const batch = tasks.insert([
          { id: 'v3', title: 'fine', done: false },
          { id: 'v4', title: null as unknown as string, done: false },
        ]);
        await expect(batch.isPersisted.promise).rejects.toThrow(/title/);
        expect(tasks.has('v3') || tasks.has('v4')).toBe(false);
        expect(await a.client.collection('tasks').get('v3')).toBeUndefined();

        expect(await a.client.collection('tasks').get('v2')).toBeUndefined();
        expect(await a.client.pending()).toBe(0);
        expect((await server.oplog('t-tsd-invalid', 'a')).map((e) => e.id)).toEqual(['v1']);

        // A valid batch lands as one local transaction and is pushed once.
        await tasks.insert([
          { id: 'v5', title: 'five', done: false },
          { id: 'v6', title: 'six', done: true },
        ]).isPersisted.promise;
        await eventually(async () =>
          expect((await server.oplog('t-tsd-invalid', 'a')).map((e) => e.id)).toEqual([
            'v1',
            'v5',
            'v6',
          ]),
        );
        expect(rowsOf(tasks)).toEqual({
          v1: { id: 'v1', title: 'valid', done: false },
          v5: { id: 'v5', title: 'five', done: false },
          v6: { id: 'v6', title: 'six', done: true },
        });
      });

      it('reflects writes a stricter server schema rejects: the collection goes back to the server state', async () => {
        const a = await server.deviceWith(looseSchema, 't-tsd-reject', 'a');
        const conflicts: ConflictEvent[] = [];
        a.client.on('conflict', (c) => conflicts.push(c));
        await a.client.start();
        const tasks = await tasksOf(a.client, 'reject-a');
        await tasks.insert({ id: 'e1', title: 'existing', done: false }).isPersisted.promise;
        await eventually(async () => expect(await a.client.pending()).toBe(0));

        await tasks.insert({ id: 'bad', title: 42, done: false }).isPersisted.promise; // the local schema allows it
        await tasks.update('e1', (draft) => {
          draft.title = 7;
        }).isPersisted.promise;
        await eventually(() =>
          expect(conflicts.map((c) => [c.status, c.id]).sort()).toEqual([
            ['rejected', 'bad'],
            ['rejected', 'e1'],
          ]),
        );
        await tasks.utils.flush();
        expect(rowsOf(tasks)).toEqual({ e1: { id: 'e1', title: 'existing', done: false } });
        expect((await tasks.utils.rejected()).map((r) => r.change.id).sort()).toEqual([
          'bad',
          'e1',
        ]);
        expect((await server.oplog('t-tsd-reject', 'a')).map((e) => e.id)).toEqual(['e1']);
      });

      it('reflects conflict-resolved writes: a newer server change and delete_wins end at the server document', async () => {
        const a = await server.device('t-tsd-conflict', 'a');
        const conflicts: ConflictEvent[] = [];
        a.client.on('conflict', (c) => conflicts.push(c));
        await a.client.start();
        const tasks = await tasksOf(a.client, 'conflict-a');
        tasks.insert({ id: 'c1', title: 'first', done: false });
        tasks.insert({ id: 'c2', title: 'to be deleted', done: false });
        await eventually(async () =>
          expect(await server.oplog('t-tsd-conflict', 'a')).toHaveLength(2),
        );
        await eventually(async () => expect(await a.client.pending()).toBe(0));

        await a.client.stop(); // offline edits, while the server moves on
        await tasks.update('c1', (draft) => {
          draft.title = 'mine (older)';
        }).isPersisted.promise;
        await tasks.update('c2', (draft) => {
          draft.done = true;
        }).isPersisted.promise;
        expect(tasks.get('c1')?.title).toBe('mine (older)');
        const editedAt = Date.now();
        await eventually(() => expect(Date.now()).toBeGreaterThan(editedAt)); // the server's write gets a later clock
        await server.engine.write('t-tsd-conflict', [
          { collection: 'tasks', id: 'c1', op: 'patch', data: { title: 'server (newer)' } },
          { collection: 'tasks', id: 'c2', op: 'delete' },
        ]);

        await a.client.start();
        await eventually(() =>
          expect(conflicts.map((c) => [c.status, c.id]).sort()).toEqual([
            ['conflict_resolved', 'c1'],
            ['conflict_resolved', 'c2'],
          ]),
        );
        await tasks.utils.flush();
        await eventually(() =>
          expect(rowsOf(tasks)).toEqual({ c1: { id: 'c1', title: 'server (newer)', done: false } }),
        );
      });

      it('rebuilds on a resync', async () => {
        const a = await server.device('t-tsd-resync', 'a');
        const tasks = await tasksOf(a.client, 'resync-a');
        await a.client.collection('tasks').put('r1', { title: 'kept' });
        await a.client.sync();
        await server.engine.write('t-tsd-resync', [
          { collection: 'tasks', id: 'r2', op: 'upsert', data: { title: 'from the server' } },
        ]);
        await a.client.resync();
        await tasks.utils.flush();
        expect(rowsOf(tasks)).toEqual({
          r1: { id: 'r1', title: 'kept', done: false },
          r2: { id: 'r2', title: 'from the server', done: false },
        });
      });
    });
  });
}
