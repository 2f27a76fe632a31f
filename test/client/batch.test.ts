/** Batched app writes, store-answered queries and the page-by-page resync, against a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSyncClient,
  memoryLocalStore,
  type ProgressEvent,
  type SyncApi,
} from '../../client/index.js';
import { demoSchema } from '../../server/demo/schema.js';
import { serverStoreCases, startClientServer, type ClientTestServer } from './harness.js';

for (const storeCase of await serverStoreCases()) {
  describe(`server on ${storeCase.name}`, () => {
    let server: ClientTestServer;
    beforeAll(async () => {
      server = await startClientServer({ store: storeCase });
    });
    afterAll(() => server?.close());

    const rows = (n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => ({
        id: `k${String(from + i).padStart(5, '0')}`,
        doc: { title: `task ${from + i}`, priority: (from + i) % 7 },
      }));

    describe('putMany / patchMany / deleteMany', () => {
      it('validates every row first: one bad row writes nothing and names its index', async () => {
        const { client } = await server.device('t-batch-bad', 'a');
        const tasks = client.collection('tasks');
        const bad = [...rows(3), { id: 'x', doc: { title: 42 as unknown as string } }];
        await expect(tasks.putMany(bad)).rejects.toThrow(/\[3\] put tasks\/x: title/);
        expect(await tasks.count()).toBe(0);
        expect(await client.pending()).toBe(0);
        await expect(tasks.patchMany([{ id: 'nope', patch: { done: true } }])).rejects.toThrow(
          /no such document/,
        );
        expect(await client.pending()).toBe(0);
      });

      it('writes a batch as one transaction with consecutive mutation ids and one change event, pushed exactly once', async () => {
        const { client } = await server.device('t-batch', 'a');
        const tasks = client.collection('tasks');
        const events: number[] = [];
        tasks.subscribe((e) => events.push(e.ids.length));
        await tasks.putMany(rows(1200));
        expect(events).toEqual([1200]);
        const outbox = await client.store.listOutbox();
        expect(outbox.map((e) => e.mutationId)).toEqual(
          Array.from({ length: 1200 }, (_, i) => i + 1),
        );
        await tasks.patchMany([
          { id: 'k00001', patch: { done: true } },
          { id: 'k00002', patch: { priority: null } },
        ]);
        await tasks.deleteMany(['k00003', 'k00004']);
        expect(await tasks.count()).toBe(1198);
        expect(await client.pending()).toBe(1204);
        const progress: ProgressEvent[] = [];
        client.on('progress', (p) => progress.push(p));
        expect((await client.sync()).pushed).toBe(1204);
        expect(progress.filter((p) => p.phase === 'push').map((p) => p.done)).toEqual([
          500, 1000, 1204,
        ]);
        expect(progress[0]!.total).toBe(1204);
        const ids = (await server.oplog('t-batch', 'a')).map((e) => e.mutationId);
        expect(ids).toHaveLength(1204);
        expect(new Set(ids).size).toBe(1204);
        const b = await server.device('t-batch', 'b');
        await b.client.sync();
        expect(await b.client.collection('tasks').count()).toBe(1198);
        expect(await b.client.collection('tasks').get('k00001')).toEqual({
          title: 'task 1',
          priority: 1,
          done: true,
        });
        expect(await b.client.collection('tasks').get('k00002')).toEqual({
          title: 'task 2',
          done: false,
        });
        expect(await b.client.collection('tasks').get('k00003')).toBeUndefined();
      });
    });

    describe('query', () => {
      it('filters, orders and windows; predicates and non-scalar filters scan page by page', async () => {
        const { client } = await server.device('t-query', 'a');
        const tasks = client.collection('tasks');
        await tasks.putMany(rows(1100));
        await tasks.put('tagged', { title: 'tagged', tags: ['x', 'y'], priority: 99 });
        const p3 = await tasks.query({ priority: 3 });
        expect(p3.length).toBe(157);
        expect(p3.every((r) => r.doc.priority === 3 && r.pending)).toBe(true);
        const top = await tasks.query(
          { done: false },
          { orderBy: { field: 'priority', direction: 'desc' }, limit: 3 },
        );
        expect(top.map((r) => r.id)).toEqual(['tagged', 'k00006', 'k00013']);
        const page2 = await tasks.query(undefined, { orderBy: 'title', limit: 2, offset: 2 });
        expect(page2.map((r) => r.doc.title)).toEqual(['task 1', 'task 10']);
        expect((await tasks.query((d) => d.title.endsWith('99'))).map((r) => r.id)).toEqual([
          'k00099',
          'k00199',
          'k00299',
          'k00399',
          'k00499',
          'k00599',
          'k00699',
          'k00799',
          'k00899',
          'k00999',
          'k01099',
        ]);
        expect((await tasks.query({ tags: ['x', 'y'] })).map((r) => r.id)).toEqual(['tagged']);
        await expect(tasks.query(undefined, { limit: -1 })).rejects.toThrow(/limit/);
        await client.sync();
        expect(
          (await tasks.query({ priority: 3 })).every((r) => !r.pending && r.version !== null),
        ).toBe(true);
      });
    });

    describe('resync', () => {
      /** The device's api, with `full` failing (retries included) while `cut.on`, and a record of the cursors asked for. */
      function cuttable(api: SyncApi) {
        const cut = {
          on: false,
          after: Infinity,
          pages: 0,
          cursors: [] as (string | null | undefined)[],
        };
        const wrapped: SyncApi = {
          push: api.push,
          pull: api.pull,
          stream: api.stream,
          full: {
            query: async (input) => {
              if (cut.pages >= cut.after) cut.on = true;
              if (cut.on) throw new Error('network gone (test)');
              cut.cursors.push(input.cursor);
              cut.pages++;
              return api.full.query(input);
            },
          },
        };
        return { cut, wrapped };
      }

      it('rebuilds page by page; cut short, it keeps the old checkpoint and resumes from its last page', async () => {
        const a = await server.device('t-resync', 'a');
        await a.client.collection('tasks').putMany(rows(2500));
        await a.client.sync();
        const device = await server.device('t-resync', 'b');
        const store = memoryLocalStore();
        const { cut: c2, wrapped: api } = cuttable(device.trpc.sync as unknown as SyncApi);
        const client = createSyncClient({
          api,
          schema: demoSchema,
          store,
          clientId: 'b2',
          fullLimit: 1000,
          retry: { retries: 1, baseMs: 1, maxMs: 2 },
        });
        await client.collection('tasks').put('mine', { title: 'offline write' });
        await client.collection('tasks').put('mine2', { title: 'second offline write' });
        c2.after = 2;
        const progress: ProgressEvent[] = [];
        client.on('progress', (p) => progress.push(p));
        await expect(client.resync()).rejects.toThrow(/network gone/);
        const state = await store.getMeta('resync');
        expect(state?.done).toBe(2000);
        expect(state?.cursor).toBeTruthy();
        expect(await store.getMeta('checkpoint')).toBeNull(); // never looks complete
        expect(await client.pending()).toBe(2); // the outbox is kept
        c2.on = false;
        c2.after = Infinity;
        await client.sync(); // finishes the resync first, from its last page
        expect(c2.cursors.slice(2)).toEqual([state!.cursor]);
        expect(await store.getMeta('resync')).toBeNull();
        expect(await store.getMeta('checkpoint')).toBeTruthy();
        expect(await client.collection('tasks').count()).toBe(2502);
        expect(progress.filter((p) => p.phase === 'full').map((p) => p.done)).toEqual([
          1000, 2000, 2502,
        ]); // sync() pushed the two offline writes first
        expect(await client.pending()).toBe(0);
        await client.close();
      });

      it('drops documents the export no longer has, keeps pending local ones', async () => {
        const a = await server.device('t-resync-drop', 'a');
        await a.client.collection('tasks').putMany(rows(10));
        await a.client.sync();
        const b = await server.device('t-resync-drop', 'b');
        await b.client.sync();
        // documents only b has, unknown to the server: one pending, one not (as if its push was answered elsewhere)
        await b.client.store.write([
          {
            type: 'putDoc',
            doc: {
              collection: 'tasks',
              id: 'ghost',
              data: { title: 'ghost', done: false },
              version: null,
              server: { title: 'ghost', done: false },
            },
          },
        ]);
        await b.client.collection('tasks').put('local', { title: 'pending' });
        await b.client.resync();
        expect(await b.client.collection('tasks').get('ghost')).toBeUndefined();
        expect(await b.client.collection('tasks').get('local')).toEqual({
          title: 'pending',
          done: false,
        });
        expect(await b.client.collection('tasks').count()).toBe(11);
      });
    });
  });
}
