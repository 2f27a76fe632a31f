/** The `tabs` option in Node (BroadcastChannel, no Web Locks: the heartbeat election): clients sharing one store, one syncs, mutation ids never repeat, changes and status reach the followers, hand-over on close. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type SyncClient,
} from '../../client/index.js';
import { serial } from '../../client/serial.js';
import { demoSchema } from '../../server/demo/schema.js';
import {
  eventually,
  serverStoreCases,
  startClientServer,
  type ClientTestServer,
} from './harness.js';

/** One memory store seen by several clients, with a cross-client `exclusive()` (what IndexedDB's Web Lock gives tabs). */
function sharedStore(): LocalStore {
  const base = memoryLocalStore();
  const lock = serial();
  return { ...base, exclusive: (task) => lock(task), close: async () => undefined };
}

const FAST = { heartbeatMs: 40, timeoutMs: 200, callTimeoutMs: 3_000 };

for (const storeCase of await serverStoreCases()) {
  describe(`server on ${storeCase.name}`, () => {
    describe('many tabs (tabs option)', () => {
      let server: ClientTestServer;
      const clients: SyncClient<typeof demoSchema>[] = [];
      // One server per store for the file (a PGlite or PostgreSQL store per test costs seconds); each test has its own client ids.
      beforeAll(async () => {
        server = await startClientServer({ store: storeCase });
      });
      afterEach(async () => {
        for (const c of clients.splice(0)) await c.close();
      });
      afterAll(() => server?.close());

      /** A "tab": a client with `tabs` on over `store`, on the server's real tRPC link. */
      async function tab(store: LocalStore, name: string): Promise<SyncClient<typeof demoSchema>> {
        const { trpc } = await server.device('acme', undefined, memoryLocalStore());
        const client = createSyncClient({
          api: trpc.sync,
          schema: demoSchema,
          store,
          tabs: { name, ...FAST },
          retry: { retries: 4, baseMs: 10, maxMs: 100 },
          pushDebounceMs: 10,
        });
        clients.push(client);
        return client;
      }
      const leaderOf = (tabs: SyncClient<typeof demoSchema>[]) => tabs.filter((t) => t.leader);

      it('elects one leader; 2 × 20 concurrent writes reach the server once each with distinct mutation ids; followers hear changes and status', async () => {
        const store = sharedStore();
        const a = await tab(store, 'n1');
        await a.start();
        const b = await tab(store, 'n1');
        const bStarted = b.start();
        await eventually(() => expect(a.leader).toBe(true), 3_000);
        await bStarted;
        expect(b.leader).toBe(false);
        expect(await b.clientId()).toBe(await a.clientId()); // one device id per shared store

        const seen: string[] = [];
        b.on('change', (e) => e.source === 'server' && seen.push(...e.ids));
        await Promise.all([
          ...Array.from({ length: 20 }, (_, i) =>
            a.collection('tasks').put(`a${i}`, { title: `a${i}` }),
          ),
          ...Array.from({ length: 20 }, (_, i) =>
            b.collection('tasks').put(`b${i}`, { title: `b${i}` }),
          ),
        ]);
        const clientId = await a.clientId();
        await eventually(
          async () => expect(await server.oplog('acme', clientId)).toHaveLength(40),
          5_000,
        );
        await eventually(async () => expect(await b.pending()).toBe(0));
        const oplog = await server.oplog('acme', clientId);
        expect(new Set(oplog.map((e) => e.mutationId)).size).toBe(40);
        expect(new Set(oplog.map((e) => e.id)).size).toBe(40);
        expect(server.events.filter((e) => e.type === 'push').length).toBeGreaterThan(0);
        // The follower heard the push answers of its own writes as `changes` messages (pending → settled).
        await eventually(() => expect(seen).toEqual(expect.arrayContaining(['b0', 'b19'])));

        // A change from another device: the leader streams it, the follower hears it.
        const other = await server.device('acme', 'other');
        await other.client.collection('tasks').put('o1', { title: 'from elsewhere' });
        await other.client.push();
        await eventually(() => expect(seen).toContain('o1'), 5_000);
        expect(await b.collection('tasks').get('o1')).toMatchObject({ title: 'from elsewhere' });
        await eventually(() => expect(b.status()).toBe(a.status())); // the leader's last status message may still be on its way

        // A follower's push() runs in the leader.
        await b.stop();
        await a.stop();
        await b.collection('tasks').put('b-manual', { title: 'manual' });
        expect(await b.push()).toBe(1);
        expect((await server.oplog('acme', clientId)).map((e) => e.id)).toContain('b-manual');
      });

      it('hands over when the leader closes: the other tab leads, pushes what is pending and goes live', async () => {
        const store = sharedStore();
        const a = await tab(store, 'n2');
        await a.start();
        await eventually(() => expect(a.leader).toBe(true), 3_000);
        const b = await tab(store, 'n2');
        await b.start();
        expect(leaderOf([a, b])).toEqual([a]);

        await a.stop(); // the leader stops pushing, then the follower writes: the entry waits in the shared outbox
        await b.collection('tasks').put('p1', { title: 'pending at hand-over' });
        await a.close();
        clients.splice(clients.indexOf(a), 1);
        await eventually(() => expect(b.leader).toBe(true), 3_000);
        const clientId = await b.clientId();
        await eventually(
          async () =>
            expect((await server.oplog('acme', clientId)).map((e) => e.id)).toEqual(['p1']),
          5_000,
        );
        await b.collection('tasks').put('p2', { title: 'after hand-over' });
        await eventually(
          async () =>
            expect((await server.oplog('acme', clientId)).map((e) => e.id)).toEqual(['p1', 'p2']),
          5_000,
        );
        expect(b.live).toBe(true);
      });

      it('two clients on one shared store never hand out the same mutation id (the counter is read inside exclusive())', async () => {
        const store = sharedStore();
        const { trpc } = await server.device('acme', undefined, memoryLocalStore());
        const one = createSyncClient({ api: trpc.sync, schema: demoSchema, store });
        const two = createSyncClient({ api: trpc.sync, schema: demoSchema, store });
        clients.push(one, two);
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            (i % 2 ? one : two).collection('tasks').put(`m${i}`, { title: `m${i}` }),
          ),
        );
        const ids = (await store.listOutbox()).map((e) => e.mutationId);
        expect(ids).toHaveLength(30);
        expect(new Set(ids).size).toBe(30);
      });

      it('does nothing where there is no BroadcastChannel (the client syncs as the only tab)', async () => {
        const saved = globalThis.BroadcastChannel;
        (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel = undefined;
        try {
          const client = await tab(memoryLocalStore(), 'n3');
          expect(client.leader).toBe(true);
          await client.collection('tasks').put('solo', { title: 'solo' });
          expect(await client.push()).toBe(1);
        } finally {
          globalThis.BroadcastChannel = saved;
        }
      });

      it('refuses a bad tabs option with a message naming it', async () => {
        const { trpc } = await server.device('acme', undefined, memoryLocalStore());
        expect(() =>
          createSyncClient({ api: trpc.sync, schema: demoSchema, tabs: { callTimeoutMs: 0 } }),
        ).toThrow(/tabs\.callTimeoutMs/);
        expect(() =>
          createSyncClient({ api: trpc.sync, schema: demoSchema, tabs: { name: '' } }),
        ).toThrow(/tabs\.name/);
      });
    });
  });
}
