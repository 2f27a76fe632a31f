/**
 * The sync-client suite against a real one-port server: convergence, offline outbox, lost
 * responses, resync, live mode, conflicts. Run once per local store (see sync.test.ts and the
 * store-specific files).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConflictEvent, LocalStore, ResyncEvent } from '../../client/index.js';
import type { StoreCase } from '../rest/harness.js';
import { eventually, startClientServer, type ClientTestServer } from './harness.js';

/** The suite with `storeName` as the local store, against a server on `serverStore` (the memory store when omitted). */
export function runSyncClientSuite(
  storeName: string,
  newLocalStore?: () => LocalStore | Promise<LocalStore>,
  serverStore?: StoreCase,
): void {
  describe(`sync client on ${storeName}, server on ${serverStore?.name ?? 'memory'}`, () => {
    let server: ClientTestServer;
    beforeAll(async () => {
      server = await startClientServer({
        ...(newLocalStore ? { newLocalStore } : {}),
        ...(serverStore ? { store: serverStore } : {}),
      });
    });
    afterAll(() => server?.close());

    /** Docs of a client's collection as `{ id: doc }`. */
    async function docsOf(device: {
      client: { collection(name: 'tasks'): { query(): Promise<{ id: string; doc: unknown }[]> } };
    }) {
      return Object.fromEntries(
        (await device.client.collection('tasks').query()).map((r) => [r.id, r.doc]),
      );
    }

    /** Each of `clientId`'s mutation ids appears in the server's oplog exactly once. */
    async function expectAppliedOnce(scope: string, clientId: string, count: number) {
      const ids = (await server.oplog(scope, clientId)).map((e) => e.mutationId);
      expect(ids).toHaveLength(count);
      expect(new Set(ids).size).toBe(count);
    }

    describe('sync()', () => {
      it('makes two clients converge through the server', async () => {
        const a = await server.device('t-converge', 'a');
        const b = await server.device('t-converge', 'b');
        await a.client.collection('tasks').put('t1', { title: 'Milk' });
        await a.client.collection('tasks').put('t2', { title: 'Eggs', tags: ['food'] });
        await b.client.collection('tasks').put('t3', { title: 'Bread', priority: 2 });
        await a.client.sync();
        await b.client.sync();
        await a.client.sync();
        expect(await docsOf(a)).toEqual({
          t1: { title: 'Milk', done: false },
          t2: { title: 'Eggs', done: false, tags: ['food'] },
          t3: { title: 'Bread', done: false, priority: 2 },
        });
        expect(await docsOf(b)).toEqual(await docsOf(a));

        // Concurrent edits of different fields both survive (field-level merge on the server).
        await a.client.collection('tasks').patch('t1', { done: true });
        await b.client.collection('tasks').patch('t1', { title: 'Oat milk' });
        await b.client.collection('tasks').delete('t2');
        await a.client.sync();
        await b.client.sync();
        await a.client.sync();
        expect(await a.client.collection('tasks').get('t1')).toEqual({
          title: 'Oat milk',
          done: true,
        });
        expect(await a.client.collection('tasks').get('t2')).toBeUndefined();
        expect(await docsOf(b)).toEqual(await docsOf(a));
        expect(await a.client.pending()).toBe(0);
        expect(await b.client.pending()).toBe(0);
      });

      it('keeps offline writes in the outbox and pushes them exactly once when the network is back', async () => {
        const a = await server.device('t-offline', 'a');
        const b = await server.device('t-offline', 'b');
        const tasks = a.client.collection('tasks');
        a.control.offline = true;
        await tasks.put('o1', { title: 'Count stock' });
        await tasks.put('o2', { title: 'Order shelves' });
        await tasks.patch('o1', { done: true });
        await expect(a.client.sync()).rejects.toThrow(/network unreachable/);
        await expect(a.client.sync()).rejects.toThrow(/network unreachable/);
        expect(await a.client.pending()).toBe(3);
        expect(await tasks.get('o1')).toEqual({ title: 'Count stock', done: true }); // optimistic

        a.control.offline = false;
        expect(await a.client.sync()).toMatchObject({ pushed: 3 });
        expect(await a.client.pending()).toBe(0);
        await expectAppliedOnce('t-offline', 'a', 3);
        await b.client.sync();
        expect(await docsOf(b)).toEqual({
          o1: { title: 'Count stock', done: true },
          o2: { title: 'Order shelves', done: false },
        });
      });

      it('survives a stopped server: writes wait, then go through once after a restart', async () => {
        const a = await server.device('t-restart', 'a');
        await a.client.collection('tasks').put('r0', { title: 'before' });
        await a.client.sync();
        await server.stopHttp();
        try {
          await a.client.collection('tasks').put('r1', { title: 'while down' });
          await a.client.collection('notes').put('n1', { body: 'offline note' });
          await expect(a.client.sync()).rejects.toThrow();
          expect(await a.client.pending()).toBe(2);
        } finally {
          await server.restartHttp();
        }
        expect(await a.client.sync()).toMatchObject({ pushed: 2 });
        await expectAppliedOnce('t-restart', 'a', 3);
        const full = await (await server.device('t-restart', 'c')).trpc.sync.full.query({});
        expect(full.docs.map((d) => `${d.collection}/${d.id}`).sort()).toEqual([
          'notes/n1',
          'tasks/r0',
          'tasks/r1',
        ]);
      });

      it('retries a push whose answer was lost: the server answers duplicate and applies nothing twice', async () => {
        const a = await server.device('t-lost', 'a');
        await a.client.collection('tasks').put('l1', { title: 'Once' });
        await a.client.collection('tasks').patch('l1', { priority: 1 });
        a.control.dropPushResponses = 1;
        const before = server.events.filter(
          (e) => e.type === 'push' && e.actor.scopeId === 't-lost',
        ).length;
        expect(await a.client.sync()).toMatchObject({ pushed: 2 });
        const pushes = server.events
          .filter((e) => e.type === 'push' && e.actor.scopeId === 't-lost')
          .slice(before);
        expect(pushes.map((e) => e.type === 'push' && [e.accepted, e.duplicates])).toEqual([
          [2, 0],
          [0, 2],
        ]);
        await expectAppliedOnce('t-lost', 'a', 2);
        expect(await a.client.pending()).toBe(0);
        expect(await a.client.collection('tasks').get('l1')).toEqual({
          title: 'Once',
          done: false,
          priority: 1,
        });
      });

      it('pushes a long outbox in batches of at most 500, in order', async () => {
        const a = await server.device('t-batch', 'a');
        for (let i = 0; i < 1203; i++)
          await a.client.collection('notes').put(`n${i}`, { body: `note ${i}` });
        const before = server.events.length;
        expect(await a.client.sync()).toMatchObject({ pushed: 1203 });
        const sizes = server.events
          .slice(before)
          .flatMap((e) => (e.type === 'push' ? [e.changes] : []));
        expect(sizes).toEqual([500, 500, 203]);
        await expectAppliedOnce('t-batch', 'a', 1203);
      });

      it('rebuilds from full after the server pruned its history (RESYNC_REQUIRED), then keeps pulling', async () => {
        const a = await server.device('t-resync', 'a');
        const b = await server.device('t-resync', 'b');
        await a.client.collection('tasks').put('k1', { title: 'keep' });
        await a.client.collection('tasks').put('k2', { title: 'to delete' });
        await a.client.sync();
        await b.client.sync();
        await a.client.collection('tasks').delete('k2');
        await a.client.collection('tasks').put('k3', { title: 'new' });
        await a.client.sync();
        await server.engine.prune({ before: new Date(Date.now() + 60_000) });
        const resyncs: ResyncEvent[] = [];
        b.client.on('resync', (e) => resyncs.push(e));
        await b.client.collection('notes').put('bn', { body: 'pending during resync' });
        await b.client.sync();
        expect(resyncs).toHaveLength(1);
        expect(await docsOf(b)).toEqual({
          k1: { title: 'keep', done: false },
          k3: { title: 'new', done: false },
        });
        expect(await b.client.collection('notes').get('bn')).toEqual({
          body: 'pending during resync',
        });
        await a.client.collection('tasks').put('k4', { title: 'after' });
        await a.client.sync();
        await b.client.sync();
        expect(resyncs).toHaveLength(1);
        expect(await docsOf(b)).toEqual(await docsOf(a));
      });

      it('reports a conflict_resolved result and adopts the server document', async () => {
        const a = await server.device('t-conflict', 'a');
        await a.client.collection('tasks').put('c1', { title: 'first' });
        await a.client.sync();
        await a.client.collection('tasks').patch('c1', { title: 'mine (older)' });
        const patchedAt = Date.now();
        await eventually(() => expect(Date.now()).toBeGreaterThan(patchedAt)); // the server's write gets a later clock

        await server.engine.write('t-conflict', [
          { collection: 'tasks', id: 'c1', op: 'patch', data: { title: 'server (newer)' } },
        ]);
        const conflicts: ConflictEvent[] = [];
        a.client.on('conflict', (c) => conflicts.push(c));
        await a.client.sync();
        expect(conflicts).toMatchObject([
          {
            status: 'conflict_resolved',
            id: 'c1',
            doc: { title: 'server (newer)', done: false },
            duplicate: false,
          },
        ]);
        expect(await a.client.collection('tasks').get('c1')).toEqual({
          title: 'server (newer)',
          done: false,
        });
      });
    });

    describe('live mode', () => {
      it("delivers another client's change live, both ways", async () => {
        const a = await server.device('t-live', 'a');
        const b = await server.device('t-live', 'b');
        await a.client.start();
        await b.client.start();
        const seen: string[][] = [];
        a.client.collection('tasks').subscribe((e) => seen.push(e.ids));
        await b.client.collection('tasks').put('live1', { title: 'from b' });
        await eventually(
          async () =>
            expect(await a.client.collection('tasks').get('live1')).toEqual({
              title: 'from b',
              done: false,
            }),
          3000,
        );
        expect(seen.flat()).toContain('live1');
        await a.client.collection('tasks').patch('live1', { done: true });
        await eventually(
          async () =>
            expect(await b.client.collection('tasks').get('live1')).toEqual({
              title: 'from b',
              done: true,
            }),
          3000,
        );
        await eventually(async () => expect(await a.client.pending()).toBe(0), 15_000);
        await a.client.stop();
        await b.client.stop();
        expect(a.client.live).toBe(false);
        await expectAppliedOnce('t-live', 'a', 1);
        await expectAppliedOnce('t-live', 'b', 1);
      });

      it('queues writes made while offline in live mode and pushes them when the link is back', async () => {
        const a = await server.device('t-live-off', 'a');
        const b = await server.device('t-live-off', 'b');
        await b.client.start();
        a.control.offline = true;
        await a.client.start(); // the initial sync fails (reported as an error event), live mode still starts
        await a.client.collection('notes').put('x', { body: 'queued' });
        await expect(a.client.sync()).rejects.toThrow(/network unreachable/); // an attempt while offline keeps it queued
        expect(await a.client.pending()).toBe(1);
        a.control.offline = false;
        await eventually(
          async () =>
            expect(await b.client.collection('notes').get('x')).toEqual({ body: 'queued' }),
          5000,
        );
        await expectAppliedOnce('t-live-off', 'a', 1);
      });
    });
  });
}
