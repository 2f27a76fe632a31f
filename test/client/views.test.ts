/**
 * Subscriptions (views) on the client, against a test double of the router at the api boundary
 * (test/client/fake-view-api.ts, honouring the views contract) and the memory local store: fetched
 * at once, same key same view, kept across restarts with their checkpoints and rebuild cursors,
 * per-document bookkeeping (unsubscribe and rebuild sweeps, `left` removals), pending writes kept
 * until pushed, per-view RESYNC_REQUIRED, refusals, offline waiting, one live stream per view.
 * The same behaviour against the real server: views-real-server.test.ts.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createSyncClient,
  memoryLocalStore,
  viewKey,
  type LocalStore,
  type SyncClient,
} from '../../client/index.js';
import { betterSqlite3Driver, sqliteLocalStore } from '../../client/sqlite/index.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { fakeConnectivity } from './fake-connectivity.js';
import { fakeViewServer, type FakeRule } from './fake-view-api.js';

const schema = defineSyncSchema({
  tasks: z.object({
    title: z.string(),
    assignee: z.string().optional(),
    projectId: z.string().optional(),
  }),
  parts: z.object({ name: z.string() }),
  notes: z.object({ body: z.string() }),
});

/** Who `mine` means: outside state the tests change (then `refresh`). */
let me = 'u1';
const rules: Record<string, FakeRule> = {
  mine: { collection: 'tasks', where: () => ({ assignee: me }) },
  project: {
    collection: 'tasks',
    params: ['projectId'],
    where: (p) => ({ projectId: p.projectId }),
    allow: (p) => p.projectId !== 'secret',
  },
  catalogue: { collection: 'parts' },
};

const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function setup(
  store: LocalStore = memoryLocalStore(),
  server = fakeViewServer({ rules }),
  online = true,
) {
  me = 'u1';
  const connectivity = fakeConnectivity(online);
  const client = createSyncClient({
    api: server.api,
    schema,
    store,
    clientId: 'dev',
    connectivity,
    ping: false,
    retry: { retries: 0, baseMs: 1, maxMs: 5 },
    pushDebounceMs: 1,
  });
  return { client, server, store, connectivity };
}

/** Ids of the live documents of `collection` on the device. */
async function localIds(
  client: SyncClient<typeof schema>,
  collection: 'tasks' | 'parts' | 'notes',
): Promise<string[]> {
  return (await client.collection(collection).query()).map((r) => r.id).sort();
}

/** Resolves when `check` holds, re-checked on every change event (no timers). */
function until(client: SyncClient<typeof schema>, check: () => Promise<boolean>): Promise<void> {
  return new Promise((resolve, reject) => {
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
}

describe('client.subscribe', () => {
  it('fetches the view at once (no sync() needed) and resolves ready with exactly its documents', async () => {
    const { client, server } = setup();
    server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    server.write('tasks', 'b', { title: 'B', projectId: 'p2' });
    server.write('notes', 'n', { body: 'unruled' });
    const sub = client.subscribe('project', { projectId: 'p1' });
    expect(sub.status).toBe('pending');
    await sub.ready;
    expect(sub.status).toBe('ready');
    expect(await localIds(client, 'tasks')).toEqual(['a']);
    expect(server.calls.filter((c) => c.method === 'full').map((c) => c.input.view)).toEqual([
      { rule: 'project', params: { projectId: 'p1' } },
    ]);
    // The default request brings unruled collections, and nothing of a ruled one (no default views here).
    await client.sync();
    expect(await localIds(client, 'notes')).toEqual(['n']);
    expect(await localIds(client, 'tasks')).toEqual(['a']);
    await client.close();
  });

  it('is the same view for the same rule and params in any key order; lists it; the key is rule + canonical JSON', async () => {
    const { client } = setup();
    const a = client.subscribe('project', { projectId: 'p1' });
    const b = client.subscribe('project', { projectId: 'p1' });
    const c = client.subscribe('catalogue');
    expect(b).toBe(a);
    expect(a.key).toBe('project{"projectId":"p1"}');
    expect(viewKey('x', { b: 1, a: 2 })).toBe(viewKey('x', { a: 2, b: 1 }));
    expect(c.key).toBe('catalogue');
    await Promise.all([a.ready, c.ready]);
    expect((await client.subscriptions()).map((s) => s.key).sort()).toEqual([
      'catalogue',
      'project{"projectId":"p1"}',
    ]);
    expect(Object.keys((await client.store.getMeta('views'))!).sort()).toEqual([
      'catalogue',
      'project{"projectId":"p1"}',
    ]);
    await client.close();
  });

  it('unsubscribe removes the documents no other view holds, keeps those another one does, and pushes nothing', async () => {
    const { client, server } = setup();
    server.write('tasks', 'a', { title: 'A', projectId: 'p1', assignee: 'u1' });
    server.write('tasks', 'b', { title: 'B', projectId: 'p1', assignee: 'u2' });
    server.write('tasks', 'c', { title: 'C', projectId: 'p2', assignee: 'u1' });
    const project = client.subscribe('project', { projectId: 'p1' });
    const mine = client.subscribe('mine');
    await Promise.all([project.ready, mine.ready]);
    expect(await localIds(client, 'tasks')).toEqual(['a', 'b', 'c']);
    await project.unsubscribe();
    expect(project.status).toBe('unsubscribed');
    expect(await localIds(client, 'tasks')).toEqual(['a', 'c']);
    expect(await client.store.getDoc('tasks', 'b')).toBeNull();
    expect((await client.store.getDoc('tasks', 'a'))!.views).toEqual({ mine: expect.any(String) });
    await mine.unsubscribe();
    expect(await localIds(client, 'tasks')).toEqual([]);
    expect(await client.pending()).toBe(0);
    expect(server.calls.some((c) => c.method === 'push')).toBe(false);
    expect(await client.subscriptions()).toEqual([]);
    expect(await client.store.getMeta('views')).toEqual({});
    await client.close();
  });

  it('applies a `left` move as a local removal, and an entering document whole', async () => {
    const { client, server } = setup();
    server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    await client.subscribe('project', { projectId: 'p1' }).ready;
    server.write('tasks', 'a', { title: 'A', projectId: 'p2' }); // moved out
    server.write('tasks', 'z', { title: 'Z', projectId: 'p1' }); // entered
    await client.sync();
    expect(await localIds(client, 'tasks')).toEqual(['z']);
    expect(await client.collection('tasks').get('z')).toEqual({ title: 'Z', projectId: 'p1' });
    expect(await client.pending()).toBe(0);
    expect(server.calls.some((c) => c.method === 'push')).toBe(false);
    await client.close();
  });

  it('keeps a document with pending writes after it left every view, until they are pushed; then it leaves', async () => {
    const { client, server, connectivity } = setup();
    server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    const sub = client.subscribe('project', { projectId: 'p1' });
    await sub.ready;
    server.setOffline(true);
    await client.collection('tasks').patch('a', { title: 'A edited' });
    server.setOffline(false);
    server.write('tasks', 'a', { title: 'A', projectId: 'p2' }); // moved out while our edit waits
    await client.pull();
    expect(await client.collection('tasks').get('a')).toEqual({
      title: 'A edited',
      projectId: 'p1',
    });
    expect((await client.store.getDoc('tasks', 'a'))!.views).toEqual({});
    await client.push();
    expect(await client.pending()).toBe(0);
    expect(await client.store.getDoc('tasks', 'a')).toBeNull();
    // The same on unsubscribe: the pending document stays until pushed.
    server.write('tasks', 'b', { title: 'B', projectId: 'p1' });
    await client.sync();
    connectivity.set(true);
    server.setOffline(true);
    await client.collection('tasks').patch('b', { title: 'B edited' });
    await sub.unsubscribe();
    expect(await client.collection('tasks').get('b')).toEqual({
      title: 'B edited',
      projectId: 'p1',
    });
    server.setOffline(false);
    await client.push();
    expect(await client.store.getDoc('tasks', 'b')).toBeNull();
    await client.close();
  });

  it('keeps subscriptions and checkpoints across a restart: ready at once, pulled from the stored checkpoint', async () => {
    const store = memoryLocalStore();
    const first = setup(store);
    first.server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    await first.client.subscribe('project', { projectId: 'p1' }).ready;
    const checkpoint = (await store.getMeta('views'))!['project{"projectId":"p1"}']!.checkpoint;
    expect(checkpoint).not.toBeNull();
    await first.client.stop();
    const server = first.server;
    server.write('tasks', 'b', { title: 'B', projectId: 'p1' });
    const calls = server.calls.length;
    const second = setup(store, server);
    const [restored] = await second.client.subscriptions();
    expect(restored!.key).toBe('project{"projectId":"p1"}');
    expect(restored!.params).toEqual({ projectId: 'p1' });
    await restored!.ready;
    expect(second.client.subscribe('project', { projectId: 'p1' })).toBe(restored);
    await second.client.sync();
    const viewCalls = server.calls.slice(calls).filter((c) => c.input.view);
    expect(viewCalls.map((c) => [c.method, c.input.since])).toEqual([['pull', checkpoint]]);
    expect(await localIds(second.client, 'tasks')).toEqual(['a', 'b']);
    await second.client.close();
  });

  it('keeps subscriptions, document views and a pending document across a restart on SQLite (a real file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'views-sqlite-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'device.db');
    const first = setup(sqliteLocalStore(betterSqlite3Driver(new Database(file))));
    const { server } = first;
    server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    server.write('tasks', 'b', { title: 'B', projectId: 'p1' });
    const sub = first.client.subscribe('project', { projectId: 'p1' });
    await sub.ready;
    server.setOffline(true);
    await first.client.collection('tasks').patch('b', { title: 'B edited' });
    await sub.unsubscribe(); // local only: works offline
    await first.client.close();
    server.setOffline(false);
    const second = setup(sqliteLocalStore(betterSqlite3Driver(new Database(file))), server);
    expect(await second.client.subscriptions()).toEqual([]);
    // `b` left its only view with a pending write: still shown, and gone once the write is pushed.
    expect(await localIds(second.client, 'tasks')).toEqual(['b']);
    await second.client.push();
    expect(await localIds(second.client, 'tasks')).toEqual([]);
    const again = second.client.subscribe('project', { projectId: 'p1' });
    await again.ready;
    await second.client.close();
    const third = setup(sqliteLocalStore(betterSqlite3Driver(new Database(file))), server);
    const [restored] = await third.client.subscriptions();
    expect(restored!.key).toBe(again.key);
    await restored!.ready;
    expect(await localIds(third.client, 'tasks')).toEqual(['a', 'b']);
    expect((await third.client.store.getDoc('tasks', 'a'))!.views).toEqual({
      [again.key]: expect.any(String),
    });
    await third.client.close();
  });

  it('finishes an unsubscribe cut short (the app closed during its sweep) at the next start', async () => {
    const store = memoryLocalStore();
    const first = setup(store);
    first.server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    const sub = first.client.subscribe('project', { projectId: 'p1' });
    await sub.ready;
    await first.client.close();
    // What a crash after `leaving` was stored and before the sweep ended leaves behind.
    const views = (await store.getMeta('views'))!;
    await store.write([
      {
        type: 'setMeta',
        key: 'views',
        value: { [sub.key]: { ...views[sub.key]!, leaving: true } },
      },
    ]);
    const second = setup(store, first.server);
    expect(await second.client.subscriptions()).toEqual([]);
    const again = second.client.subscribe('project', { projectId: 'p1' }); // waits for the sweep, then subscribes anew
    await again.ready;
    expect(await localIds(second.client, 'tasks')).toEqual(['a']);
    expect((await store.getMeta('views'))![sub.key]!.leaving).toBe(false);
    await again.unsubscribe();
    expect(await localIds(second.client, 'tasks')).toEqual([]);
    await second.client.close();
  });

  it('resumes a rebuild cut short from its stored cursor after a restart', async () => {
    const store = memoryLocalStore();
    const server = fakeViewServer({ rules });
    for (let i = 0; i < 7; i++) server.write('parts', `p${i}`, { name: `part ${i}` });
    // The second full page fails: the first page and its cursor are stored.
    let fulls = 0;
    const full = server.api.full.query.bind(server.api.full);
    server.api.full.query = async (input) => {
      if (++fulls === 2)
        throw Object.assign(new Error('fetch failed: connection reset (test)'), {
          data: undefined,
        });
      return full(input);
    };
    const connectivity = fakeConnectivity(true);
    const first = createSyncClient({
      api: server.api,
      schema,
      store,
      clientId: 'dev',
      connectivity,
      ping: false,
      retry: { retries: 0, baseMs: 60_000, maxMs: 60_000 },
      fullLimit: 3,
    });
    const failed = new Promise((resolve) => first.on('error', resolve));
    first.subscribe('catalogue');
    await failed;
    const stored = (await store.getMeta('views'))!.catalogue!;
    expect(stored.rebuild).toMatchObject({ done: 3 });
    expect(stored.rebuild!.cursor).not.toBeNull();
    await first.close();
    const second = setup(store, server);
    await (
      await second.client.subscriptions()
    )[0]!.ready;
    // The fake records the calls it answered: the first page, then the resumed one, from the stored cursor.
    const cursors = server.calls
      .filter((c) => c.method === 'full')
      .map((c) => c.input.cursor ?? null);
    expect(cursors).toEqual([null, stored.rebuild!.cursor]);
    expect(await localIds(second.client, 'parts')).toEqual([
      'p0',
      'p1',
      'p2',
      'p3',
      'p4',
      'p5',
      'p6',
    ]);
    expect((await store.getMeta('views'))!.catalogue!.rebuild).toBeNull();
    await second.client.close();
  });

  it('rebuilds only the view the server answers RESYNC_REQUIRED for, and sweeps what it no longer holds', async () => {
    const { client, server } = setup();
    server.write('tasks', 'mine1', { title: 'M', assignee: 'u1' });
    server.write('tasks', 'theirs', { title: 'T', assignee: 'u2' });
    server.write('parts', 'p', { name: 'P' });
    const mine = client.subscribe('mine');
    await Promise.all([mine.ready, client.subscribe('catalogue').ready]);
    expect(await localIds(client, 'tasks')).toEqual(['mine1']);
    const progress: string[] = [];
    mine.on('progress', (p) => progress.push(p.phase));
    me = 'u2'; // outside state changed: `mine` now means u2's tasks
    server.refresh({ rule: 'mine' });
    const before = server.calls.length;
    await client.sync();
    const after = server.calls.slice(before);
    expect(after.filter((c) => c.method === 'full').map((c) => c.input.view)).toEqual([
      { rule: 'mine' },
    ]);
    expect(after.filter((c) => c.method === 'pull').map((c) => c.input.view ?? null)).toEqual([
      null,
      { rule: 'mine' },
      { rule: 'mine' },
      { rule: 'catalogue' },
    ]);
    expect(await localIds(client, 'tasks')).toEqual(['theirs']);
    expect(await localIds(client, 'parts')).toEqual(['p']);
    expect(progress).toContain('full');
    await client.close();
  });

  it('rejects ready when the server refuses the view (undeclared rule, bad params, allow false) and keeps nothing of it', async () => {
    const { client } = setup();
    const unknown = client.subscribe('nope' as 'mine');
    const bad = client.subscribe('project', { projectId: 3 as unknown as string });
    const forbidden = client.subscribe('project', { projectId: 'secret' });
    await expect(unknown.ready).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    await expect(bad.ready).rejects.toThrow(/view\.params\.projectId/);
    await expect(forbidden.ready).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    expect([unknown.status, bad.status, forbidden.status]).toEqual([
      'refused',
      'refused',
      'refused',
    ]);
    expect(await client.store.getMeta('views')).toEqual({});
    expect(await client.subscriptions()).toEqual([]);
    expect(() => client.subscribe('' as 'mine')).toThrow(/non-empty/);
    await client.close();
  });

  it('waits while offline and fetches once the network is back', async () => {
    const { client, server, connectivity } = setup(
      memoryLocalStore(),
      fakeViewServer({ rules }),
      false,
    );
    server.write('parts', 'p', { name: 'P' });
    const sub = client.subscribe('catalogue');
    let settled = false;
    void sub.ready.then(() => (settled = true));
    await turns();
    expect(settled).toBe(false);
    expect(sub.status).toBe('pending');
    expect(server.calls).toEqual([]);
    connectivity.set(true);
    await sub.ready;
    expect(await localIds(client, 'parts')).toEqual(['p']);
    await client.close();
  });

  it('streams each view live next to the default stream, and a view resync rebuilds that view only', async () => {
    const { client, server } = setup();
    server.write('tasks', 'a', { title: 'A', projectId: 'p1' });
    server.write('parts', 'p', { name: 'P' });
    const project = client.subscribe('project', { projectId: 'p1' });
    await Promise.all([project.ready, client.subscribe('catalogue').ready]);
    await client.start();
    await server.when(() => server.openStreams === 3);
    const streams = server.calls
      .filter((c) => c.method === 'stream')
      .map((c) => c.input.view ?? null);
    expect(streams).toEqual(
      expect.arrayContaining([
        null,
        { rule: 'project', params: { projectId: 'p1' } },
        { rule: 'catalogue' },
      ]),
    );
    server.write('tasks', 'b', { title: 'B', projectId: 'p1' });
    await until(client, async () => (await localIds(client, 'tasks')).includes('b'));
    server.write('tasks', 'a', { title: 'A', projectId: 'p9' }); // leaves the view live
    await until(client, async () => !(await localIds(client, 'tasks')).includes('a'));
    const fullsBefore = server.calls.filter((c) => c.method === 'full').length;
    server.refresh({ rule: 'project', params: { projectId: 'p1' } });
    await server.when(
      () =>
        server.calls.filter((c) => c.method === 'full').length > fullsBefore &&
        server.openStreams === 3 &&
        server.calls.at(-1)!.method === 'stream',
    );
    const rebuilt = server.calls
      .filter((c) => c.method === 'full')
      .slice(fullsBefore)
      .map((c) => c.input.view);
    expect(rebuilt).toEqual([{ rule: 'project', params: { projectId: 'p1' } }]);
    await project.unsubscribe();
    expect(server.openStreams).toBe(2);
    expect(await localIds(client, 'tasks')).toEqual([]);
    await client.close();
  });
});
