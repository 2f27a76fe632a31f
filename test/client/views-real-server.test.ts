/**
 * Subscriptions (views) end to end: the real engine with read rules behind the real tRPC router
 * (HTTP batch and WebSocket) on PGlite, and PostgreSQL when TEST_DATABASE_URL is set; devices are
 * real clients. Written against the views contract; each test is reported skipped (with the
 * reason) until the server answers the `view` field (the server part of issue 19).
 */
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import superjson from 'superjson';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { z } from 'zod';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type SyncApi,
  type SyncClient,
} from '../../client/index.js';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createAppRouter, type AppRouter } from '../../server/demo/app-router.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { realStoreCases } from './real-server.js';

const SECRET = 'views-real-server-secret-views-real-server!';
const schema = defineSyncSchema({
  tasks: z.object({
    title: z.string(),
    assignee: z.string().optional(),
    projectId: z.string().optional(),
  }),
  parts: z.object({ name: z.string() }),
  notes: z.object({ body: z.string() }),
});
type Schema = typeof schema;

/** Outside state a rule reads: which projects each user is a member of (changed, then `refreshViews`). */
const memberships = new Map<string, string[]>();
const rules = {
  mine: {
    collection: 'tasks',
    fields: ['assignee'],
    where: ({ actor }: { actor: { userId: string } }) => ({ assignee: actor.userId }),
  },
  project: {
    collection: 'tasks',
    fields: ['projectId'],
    params: z.object({ projectId: z.string() }),
    where: ({ params }: { params: { projectId: string } }) => ({ projectId: params.projectId }),
    allow: ({ params }: { params: { projectId: string } }) => params.projectId !== 'secret',
  },
  teams: {
    collection: 'tasks',
    fields: ['projectId'],
    where: ({ actor }: { actor: { userId: string } }) => ({
      projectId: { in: memberships.get(actor.userId) ?? [] },
    }),
  },
  catalogue: { collection: 'parts' },
};

for (const storeCase of realStoreCases('views_client')) {
  describe(`subscriptions against the real server on ${storeCase.name}`, () => {
    let url = '';
    let port = 0;
    let engine: {
      refreshViews?(who: { scopeId: string; userId: string }): Promise<void>;
      close(): Promise<void>;
    };
    let close: () => Promise<void> = async () => undefined;
    /** Why the tests skip: the server does not answer `view` yet (null once it does). */
    let unsupported: string | null = 'not probed';
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      const store = await storeCase.create();
      await store.init();
      // Cast: the engine's `rules` / `defaultViews` options come with the server part of the contract.
      const created = createSyncEngine({
        store,
        schema,
        rules,
        defaultViews: ['mine'],
        retention: { pruneIntervalMs: 0 },
        stream: { heartbeatMs: 300, pollMs: 200 },
      } as never) as never as typeof engine & Parameters<typeof createAppRouter>[0];
      engine = created;
      const http = createSyncHttpServer({
        engine: created,
        authenticate: jwtAuthenticator({ secret: SECRET }),
        router: createAppRouter(created),
      });
      ({ url, port } = await http.listen(0, '127.0.0.1'));
      close = async () => {
        for (const c of cleanups) await c();
        await http.close();
        await engine.close();
        await store.close();
      };
      const probe = await trpcOf('probe', 'probe');
      try {
        await probe.sync.pull.query({ since: null, view: { rule: 'no-such-rule' } } as never);
        unsupported =
          'the server ignores the `view` field (server part of issue 19 not merged yet)';
      } catch (error) {
        const message = String((error as Error).message);
        unsupported = /view/.test(message) ? null : `unexpected probe answer: ${message}`;
      }
      if (unsupported) console.log(`views-real-server: skipped: ${unsupported}`);
    }, 120_000);
    afterAll(() => close());

    async function trpcOf(user: string, tenant: string) {
      const token = await signDevToken(SECRET, { sub: user, tenant, expiresIn: '1h' });
      const ws = createWSClient({
        url: `ws://127.0.0.1:${port}/trpc`,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        connectionParams: async () => ({ token }),
        retryDelayMs: () => 50,
        lazy: { enabled: true, closeMs: 0 },
      });
      cleanups.push(() => ws.close());
      return createTRPCClient<AppRouter>({
        links: [
          splitLink({
            condition: (op) => op.type === 'subscription',
            true: wsLink({ client: ws, transformer: superjson }),
            false: httpBatchLink({
              url: `${url}/trpc`,
              transformer: superjson,
              headers: { authorization: `Bearer ${token}` },
            }),
          }),
        ],
      });
    }

    /** A device of `user` in `tenant` (its own memory local store unless given). */
    async function device(
      user: string,
      tenant: string,
      store: LocalStore = memoryLocalStore(),
      integrity?: { viewCheckIntervalMs: number },
      pulls?: Record<string, unknown>[],
    ): Promise<SyncClient<Schema>> {
      const trpc = await trpcOf(user, tenant);
      const api = trpc.sync as unknown as SyncApi;
      const client = createSyncClient({
        // `pulls`: every pull input the client sends, in order.
        api: pulls
          ? {
              push: api.push,
              full: api.full,
              stream: api.stream,
              pull: {
                query: (input: Parameters<SyncApi['pull']['query']>[0]) => {
                  pulls.push(input as Record<string, unknown>);
                  return api.pull.query(input);
                },
              },
            }
          : api,
        schema,
        store,
        connectivity: null,
        ping: false,
        retry: { retries: 3, baseMs: 10, maxMs: 100 },
        ...(integrity ? { integrity } : {}),
      });
      cleanups.push(() => client.close());
      return client;
    }
    const ids = async (client: SyncClient<Schema>, collection: 'tasks' | 'parts' | 'notes') =>
      (await client.collection(collection).query()).map((r) => r.id).sort();
    const needsViews = (ctx: TestContext) => {
      if (unsupported) ctx.skip(unsupported);
    };
    /** Resolves when `check` holds, re-checked on every change event of `client` (no timers). */
    const until = (client: SyncClient<Schema>, check: () => Promise<boolean>) =>
      new Promise<void>((resolve, reject) => {
        let done = false;
        const test = () =>
          void check().then((ok) => {
            if (ok && !done) {
              done = true;
              off();
              resolve();
            }
          }, reject);
        const off = client.on('change', test);
        test();
      });

    it('fetches a view at once with exactly its documents; the default request brings unruled collections and the default views only', async (ctx) => {
      needsViews(ctx);
      const admin = await device('admin', 't-first');
      await admin.collection('tasks').putMany([
        { id: 'a', doc: { title: 'A', projectId: 'p1', assignee: 'ann' } },
        { id: 'b', doc: { title: 'B', projectId: 'p2', assignee: 'bob' } },
        { id: 'c', doc: { title: 'C', projectId: 'p1', assignee: 'bob' } },
      ]);
      await admin.collection('notes').put('n', { body: 'for everyone' });
      await admin.collection('parts').put('p', { name: 'bolt' });
      await admin.sync();
      const ann = await device('ann', 't-first');
      await ann.sync();
      expect(await ids(ann, 'tasks')).toEqual(['a']); // default view `mine`
      expect(await ids(ann, 'notes')).toEqual(['n']);
      expect(await ids(ann, 'parts')).toEqual([]); // ruled, in no default view
      const sub = ann.subscribe('project', { projectId: 'p1' });
      await sub.ready;
      expect(await ids(ann, 'tasks')).toEqual(['a', 'c']);
      await ann.subscribe('catalogue').ready;
      expect(await ids(ann, 'parts')).toEqual(['p']);
      expect(
        (await ann.collection('tasks').query(undefined, { view: sub })).map((r) => r.id),
      ).toEqual(['a', 'c']);
    });

    it('moves: a reassigned document leaves as a local removal (nothing pushed), one entering arrives whole; unsubscribe keeps what another view holds', async (ctx) => {
      needsViews(ctx);
      const admin = await device('admin', 't-moves');
      await admin.collection('tasks').putMany([
        { id: 'a', doc: { title: 'A', projectId: 'p1', assignee: 'ann' } },
        { id: 'c', doc: { title: 'C', projectId: 'p1', assignee: 'bob' } },
      ]);
      await admin.sync();
      // A device holds exactly its views once its writes are pushed: admin keeps p1's tasks through a view.
      await admin.subscribe('project', { projectId: 'p1' }).ready;
      const ann = await device('ann', 't-moves');
      const p1 = ann.subscribe('project', { projectId: 'p1' });
      await p1.ready;
      await ann.sync();
      await admin.collection('tasks').patch('c', { projectId: 'p2' });
      await admin.collection('tasks').put('d', { title: 'D', projectId: 'p1' });
      await admin.sync();
      await ann.sync();
      expect(await ids(ann, 'tasks')).toEqual(['a', 'd']);
      expect(await ann.collection('tasks').get('d')).toEqual({ title: 'D', projectId: 'p1' });
      expect(await ann.pending()).toBe(0);
      await p1.unsubscribe();
      expect(await ids(ann, 'tasks')).toEqual(['a']); // still hers through the default view `mine`
    });

    it('a task a subscribing device creates for someone else leaves it once pushed; the other sees it', async (ctx) => {
      needsViews(ctx);
      const ann = await device('ann', 't-own');
      await ann.subscribe('mine').ready;
      await ann.collection('tasks').put('mine-1', { title: 'M', projectId: 'p1', assignee: 'ann' });
      await ann
        .collection('tasks')
        .put('for-bob', { title: 'B', projectId: 'p1', assignee: 'bob' });
      expect(await ids(ann, 'tasks')).toEqual(['for-bob', 'mine-1']); // held while pending
      await ann.sync();
      expect(await ids(ann, 'tasks')).toEqual(['mine-1']);
      expect(await ann.pending()).toBe(0);
      const bob = await device('bob', 't-own');
      await bob.subscribe('mine').ready;
      expect(await ids(bob, 'tasks')).toEqual(['for-bob']);
    });

    it('own writes outside every view leave the device once pushed, with or without subscriptions; one a view holds stays', async (ctx) => {
      needsViews(ctx);
      // No subscription (default views: mine): a task for bob leaves once pushed, ann's own stays.
      const ann = await device('ann', 't-own-default');
      await ann
        .collection('tasks')
        .put('for-bob', { title: 'B', projectId: 'p1', assignee: 'bob' });
      await ann
        .collection('tasks')
        .put('for-ann', { title: 'A', projectId: 'p1', assignee: 'ann' });
      await ann.sync();
      expect(await ids(ann, 'tasks')).toEqual(['for-ann']);
      expect(await ann.pending()).toBe(0);
      // A subscription that holds the task keeps it (the default request's removal defers to it).
      const cyd = await device('cyd', 't-own-default');
      await cyd.subscribe('project', { projectId: 'p1' }).ready;
      await cyd
        .collection('tasks')
        .put('c-for-bob', { title: 'C', projectId: 'p1', assignee: 'bob' });
      await cyd.sync();
      await cyd.sync();
      expect(await ids(cyd, 'tasks')).toEqual(['c-for-bob', 'for-ann', 'for-bob']);
      // And one outside that subscription leaves.
      await cyd.collection('tasks').put('c-p2', { title: 'D', projectId: 'p2', assignee: 'bob' });
      await cyd.sync();
      expect(await ids(cyd, 'tasks')).toEqual(['c-for-bob', 'for-ann', 'for-bob']);
      expect(await cyd.pending()).toBe(0);
    });

    it("a write that loses to another writer's newer one is answered with that state: outside every view it leaves the device, inside one the view brings it; a device's own new task never leaves", async (ctx) => {
      needsViews(ctx);
      const admin = await device('admin', 't-lost');
      await admin.collection('tasks').put('a1', { title: 'A1', assignee: 'ann' });
      await admin.sync();
      const ann = await device('ann', 't-lost');
      await ann.subscribe('mine').ready;
      expect(await ids(ann, 'tasks')).toEqual(['a1']);
      // Ann writes offline; then admin writes the same two tasks with newer clocks.
      await ann.collection('tasks').put('x', { title: 'ann x', assignee: 'ann' });
      await ann.collection('tasks').put('z', { title: 'ann z', assignee: 'ann' });
      await ann.collection('tasks').put('y', { title: 'ann y', assignee: 'ann' });
      const t0 = Date.now();
      // A later millisecond, so admin's HLCs are newer than ann's.
      while (Date.now() <= t0 + 1) await new Promise((r) => setImmediate(r));
      await admin.collection('tasks').put('x', { title: 'bob x', assignee: 'bob' });
      await admin.collection('tasks').put('z', { title: 'admin z', assignee: 'ann' });
      await admin.sync();
      const conflicts: string[] = [];
      ann.on('conflict', (c) => void conflicts.push(`${c.id}:${c.status}`));
      await ann.push();
      expect(conflicts.sort()).toEqual(['x:conflict_resolved', 'z:conflict_resolved']);
      // Answered with bob's x, which no read of ann's will ever send: it is not kept.
      expect(await ann.store.getDoc('tasks', 'x')).toBeNull();
      // Her own new task stays at once (no blink while its view has not delivered it yet).
      expect(await ann.collection('tasks').get('y')).toEqual({ title: 'ann y', assignee: 'ann' });
      await ann.sync();
      expect(await ids(ann, 'tasks')).toEqual(['a1', 'y', 'z']);
      expect(await ann.collection('tasks').get('z')).toEqual({ title: 'admin z', assignee: 'ann' });
      expect(await ann.pending()).toBe(0);
      // What the server's own query of her view holds.
      const other = await device('ann', 't-lost');
      await other.subscribe('mine').ready;
      expect(await ids(other, 'tasks')).toEqual(['a1', 'y', 'z']);
    });

    it('keeps a document with pending writes that left the view until they are pushed, then it leaves', async (ctx) => {
      needsViews(ctx);
      const admin = await device('admin', 't-pending');
      await admin.collection('tasks').put('a', { title: 'A', projectId: 'p1' });
      await admin.sync();
      await admin.subscribe('project', { projectId: 'p1' }).ready;
      const ann = await device('ann', 't-pending');
      await ann.subscribe('project', { projectId: 'p1' }).ready;
      await ann.collection('tasks').patch('a', { title: 'A by ann' });
      await admin.collection('tasks').patch('a', { projectId: 'p2' });
      await admin.sync();
      await ann.pull();
      expect(await ann.collection('tasks').get('a')).toMatchObject({ title: 'A by ann' });
      await ann.push();
      await ann.pull();
      expect(await ann.store.getDoc('tasks', 'a')).toBeNull();
      // The server kept ann's write (admin reads it through the view that now holds the task).
      await admin.subscribe('project', { projectId: 'p2' }).ready;
      expect(await admin.collection('tasks').get('a')).toEqual({
        title: 'A by ann',
        projectId: 'p2',
      });
    });

    it('refreshViews rebuilds only the affected view: a revoked membership removes, a granted one brings', async (ctx) => {
      needsViews(ctx);
      memberships.set('ann', ['p1']);
      const admin = await device('admin', 't-refresh');
      await admin.collection('tasks').putMany([
        { id: 'a', doc: { title: 'A', projectId: 'p1' } },
        { id: 'b', doc: { title: 'B', projectId: 'p2' } },
      ]);
      await admin.collection('parts').put('p', { name: 'bolt' });
      await admin.sync();
      const ann = await device('ann', 't-refresh');
      const teams = ann.subscribe('teams');
      await Promise.all([teams.ready, ann.subscribe('catalogue').ready]);
      expect(await ids(ann, 'tasks')).toEqual(['a']);
      const phases: string[] = [];
      teams.on('progress', (p) => phases.push(p.phase));
      memberships.set('ann', ['p2']);
      await engine.refreshViews!({ scopeId: 't-refresh', userId: 'ann' });
      await ann.sync();
      expect(await ids(ann, 'tasks')).toEqual(['b']);
      expect(await ids(ann, 'parts')).toEqual(['p']);
      expect(phases).toContain('full');
    });

    it('refuses an undeclared rule (400), bad params (400) and a forbidden view (403): ready rejects, nothing is kept', async (ctx) => {
      needsViews(ctx);
      const ann = await device('ann', 't-refuse');
      const unknown = ann.subscribe('nope' as 'mine');
      const bad = ann.subscribe('project', { projectId: 7 as unknown as string });
      const forbidden = ann.subscribe('project', { projectId: 'secret' });
      await expect(unknown.ready).rejects.toThrow(/view\.rule|nope/);
      await expect(bad.ready).rejects.toThrow(/view\.params/);
      await expect(forbidden.ready).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
      expect(await ann.subscriptions()).toEqual([]);
      expect(await ann.store.getMeta('views')).toEqual({});
    });

    it('keeps subscriptions across a restart and streams each view live, a move included', async (ctx) => {
      needsViews(ctx);
      const admin = await device('admin', 't-live');
      await admin.collection('tasks').put('a', { title: 'A', projectId: 'p1' });
      await admin.sync();
      await admin.subscribe('project', { projectId: 'p1' }).ready;
      const store = memoryLocalStore();
      const first = await device('ann', 't-live', store);
      await first.subscribe('project', { projectId: 'p1' }).ready;
      await first.stop();
      const ann = await device('ann', 't-live', store);
      const [restored] = await ann.subscriptions();
      expect(restored!.key).toBe('project{"projectId":"p1"}');
      await restored!.ready;
      await ann.start();
      await admin.collection('tasks').put('b', { title: 'B', projectId: 'p1' });
      await admin.sync();
      await until(ann, async () => (await ids(ann, 'tasks')).join() === 'a,b');
      await admin.collection('tasks').patch('a', { projectId: 'p9' });
      await admin.sync();
      await until(ann, async () => (await ids(ann, 'tasks')).join() === 'b');
      await ann.stop();
    });

    it('view checksums: a view document changed or dropped behind the client is found at the next sync and that view alone is rebuilt', async (ctx) => {
      needsViews(ctx);
      const admin = await device('admin', 't-sums');
      await admin.collection('tasks').putMany([
        { id: 'a', doc: { title: 'A', projectId: 'p1' } },
        { id: 'c', doc: { title: 'C', projectId: 'p1' } },
        { id: 'm', doc: { title: 'M', projectId: 'p2', assignee: 'ann' } },
      ]);
      await admin.sync();
      const local = memoryLocalStore();
      // Every view pull asks for the view's checksum (the default asks every 5 minutes).
      const ann = await device('ann', 't-sums', local, { viewCheckIntervalMs: 0 });
      const events: { collection: string; view?: string; repaired: number | null }[] = [];
      ann.on('integrity', (e) => events.push(e));
      const sub = ann.subscribe('project', { projectId: 'p1' });
      await sub.ready;
      await ann.sync();
      expect(events).toEqual([]); // in agreement: nothing repaired
      const before = (await ann.diagnostics()).integrity!;
      expect(before.checks).toBeGreaterThan(0);

      // Behind the client's back: one document's content changed (version untouched), another dropped.
      const a = (await local.getDocs('tasks', ['a']))[0]!;
      await local.write([
        {
          type: 'putDoc',
          doc: {
            ...a,
            server: { ...a.server!, title: 'tampered' },
            data: { ...a.data!, title: 'tampered' },
          },
        },
        { type: 'deleteDoc', collection: 'tasks', id: 'c' },
      ]);
      expect(await ids(ann, 'tasks')).toEqual(['a', 'm']);
      await ann.sync();
      expect(events).toEqual([
        expect.objectContaining({
          collection: 'tasks',
          view: sub.key,
          repaired: expect.any(Number),
        }),
      ]);
      expect(await ids(ann, 'tasks')).toEqual(['a', 'c', 'm']);
      expect((await ann.collection('tasks').get('a'))?.title).toBe('A');
      const after = (await ann.diagnostics()).integrity!;
      expect([after.mismatches - before.mismatches, after.repairs - before.repairs]).toEqual([
        1, 1,
      ]);
      // Repaired: the next sync agrees again.
      await ann.sync();
      expect(events).toHaveLength(1);
    });

    it('view checksums are asked for once per viewCheckIntervalMs: later syncs compare nothing and cost the server no scan', async (ctx) => {
      needsViews(ctx);
      const admin = await device('admin', 't-sums-rare');
      await admin.collection('tasks').putMany([{ id: 'a', doc: { title: 'A', projectId: 'p1' } }]);
      await admin.sync();
      const pulls: Record<string, unknown>[] = [];
      const ann = await device('ann', 't-sums-rare', memoryLocalStore(), undefined, pulls);
      const sub = ann.subscribe('project', { projectId: 'p1' });
      await sub.ready;
      await ann.sync();
      await admin.collection('tasks').put('b', { title: 'B', projectId: 'p1' });
      await admin.sync();
      await ann.sync();
      await ann.sync();
      expect(await ids(ann, 'tasks')).toEqual(['a', 'b']);
      const viewPulls = pulls.filter((p) => p.view !== undefined);
      expect(viewPulls.length).toBeGreaterThanOrEqual(3);
      // Asked once (the first sync's pull; the rebuild's own pull never asks), then not again within the interval.
      expect(viewPulls.filter((p) => p.verifyView === true)).toHaveLength(1);
      expect(viewPulls.at(-1)!.verifyView).toBeUndefined();
      expect((await ann.diagnostics()).integrity!.checks).toBeGreaterThan(0);
    });
  });
}
