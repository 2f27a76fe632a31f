/** The client without a server: memoryLocalStore, optimistic writes, the outbox, rebasing on server state, error classification. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';
import { compareHlc } from '../../shared/hlc.js';
import type { ChangeOut, PushInput, PushResponse } from '../../shared/protocol.js';
import {
  backoffDelay,
  createSyncClient,
  isResyncRequired,
  isRetryable,
  memoryLocalStore,
  type ChangeEvent,
  type SyncApi,
} from '../../client/index.js';
import { retryDelay } from '../../client/retry.js';

const schema = defineSyncSchema({
  tasks: z.object({
    title: z.string(),
    done: z.boolean().default(false),
    note: z.string().optional(),
  }),
});

const V1 = '20260502T120000.000Z-0000-srv1';
const V2 = '20260502T120001.000Z-0000-srv1';

/** A scripted server: pull answers from `pulls`, push answers everything accepted (or fails while `down`). */
function fakeApi() {
  const pushes: PushInput[] = [];
  const state = { down: 0, pulls: [] as ChangeOut[][] };
  const api: SyncApi = {
    push: {
      async mutate(input) {
        if (state.down > 0) {
          state.down--;
          throw new TypeError('fetch failed');
        }
        pushes.push(input);
        const results = input.changes.map((c) => ({
          mutationId: c.mutationId,
          collection: c.collection,
          id: c.id,
          status: 'accepted' as const,
          version: V2,
        }));
        return { results, serverTime: V2 } satisfies PushResponse;
      },
    },
    pull: {
      query: async () => ({
        changes: state.pulls.shift() ?? [],
        checkpoint: 'c1.e.1',
        hasMore: false,
      }),
    },
    full: { query: async () => ({ docs: [], cursor: null, checkpoint: 'c1.e.1' }) },
    stream: { subscribe: () => ({ unsubscribe() {} }) },
  };
  return { api, pushes, state };
}

describe('collections (local, offline)', () => {
  it('puts, patches, deletes, gets and queries with defaults applied, and tells subscribers', async () => {
    const client = createSyncClient({ api: fakeApi().api, schema, clientId: 'dev1' });
    const tasks = client.collection('tasks');
    const events: ChangeEvent[] = [];
    const off = tasks.subscribe((e) => events.push(e));
    await tasks.put('a', { title: 'A' });
    await tasks.put('b', { title: 'B', note: 'x' });
    await tasks.patch('b', { done: true, note: null });
    await tasks.put('c', { title: 'C' });
    await tasks.delete('c');
    off();
    await tasks.put('d', { title: 'D' });
    expect(await tasks.get('b')).toEqual({ title: 'B', done: true });
    expect(await tasks.get('c')).toBeUndefined();
    expect((await tasks.query()).map((r) => r.id)).toEqual(['a', 'b', 'd']);
    expect((await tasks.query({ done: true })).map((r) => r.id)).toEqual(['b']);
    expect((await tasks.query((doc, id) => id > 'a' && !doc.done)).map((r) => r.id)).toEqual(['d']);
    expect((await tasks.query())[0]).toMatchObject({ id: 'a', version: null, pending: true });
    expect(events.map((e) => [e.source, e.ids])).toEqual([
      ['local', ['a']],
      ['local', ['b']],
      ['local', ['b']],
      ['local', ['c']],
      ['local', ['c']],
    ]);
  });

  it('refuses invalid documents, patches of unknown documents and unknown collections, storing nothing', async () => {
    const client = createSyncClient({ api: fakeApi().api, schema });
    const tasks = client.collection('tasks');
    await expect(tasks.put('a', { title: 42 } as never)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/title/),
    });
    await expect(tasks.patch('zz', { done: true })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await tasks.put('a', { title: 'ok' });
    await expect(tasks.patch('a', { title: null })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(tasks.put('', { title: 'x' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(() => client.collection('users' as 'tasks')).toThrow(/not in the schema/);
    expect(await client.pending()).toBe(1);
  });

  it('numbers outbox entries with increasing mutation ids and HLCs, and keeps counting after a restart', async () => {
    const store = memoryLocalStore();
    const first = createSyncClient({ api: fakeApi().api, schema, store });
    for (const id of ['a', 'b', 'c']) await first.collection('tasks').put(id, { title: id });
    const second = createSyncClient({ api: fakeApi().api, schema, store }); // same device, new process
    await second.collection('tasks').patch('a', { done: true });
    const outbox = await store.listOutbox();
    expect(outbox.map((e) => e.mutationId)).toEqual([1, 2, 3, 4]);
    for (let i = 1; i < outbox.length; i++)
      expect(compareHlc(outbox[i - 1]!.hlc, outbox[i]!.hlc)).toBeLessThan(0);
    expect(await second.clientId()).toBe(await first.clientId());
    expect(outbox[3]).toMatchObject({ op: 'patch', data: { done: true }, baseVersion: null });
  });
});

describe('sync() against a scripted server', () => {
  it('re-applies pending local changes on top of newer server state', async () => {
    const { api, state } = fakeApi();
    const client = createSyncClient({ api, schema });
    const tasks = client.collection('tasks');
    state.pulls.push([
      {
        collection: 'tasks',
        id: 't',
        op: 'upsert',
        data: { title: 'server', done: false },
        version: V1,
      },
    ]);
    await client.pull();
    await tasks.patch('t', { done: true });
    // Someone else renamed it; our patch (not pushed yet) must survive on top.
    state.pulls.push([
      {
        collection: 'tasks',
        id: 't',
        op: 'upsert',
        data: { title: 'renamed', done: false },
        version: V2,
      },
    ]);
    await client.pull();
    expect(await tasks.get('t')).toEqual({ title: 'renamed', done: true });
    expect((await client.store.listOutbox())[0]).toMatchObject({ baseVersion: V1 });
    expect(await client.store.getMeta('checkpoint')).toBe('c1.e.1');
  });

  it('keeps the outbox through network failures and retries with backoff until the push goes through', async () => {
    const { api, pushes, state } = fakeApi();
    const client = createSyncClient({ api, schema, retry: { retries: 3, baseMs: 1, maxMs: 4 } });
    await client.collection('tasks').put('a', { title: 'A' });
    state.down = 10;
    const errors: unknown[] = [];
    client.on('error', (e) => errors.push(e.where));
    await expect(client.sync()).rejects.toThrow('fetch failed');
    expect(await client.pending()).toBe(1);
    expect(errors).toEqual(['push']);
    state.down = 2; // two more failures, then success inside one sync()
    expect(await client.sync()).toEqual({ pushed: 1, pulled: 0 });
    expect(pushes).toHaveLength(1);
    expect(await client.pending()).toBe(0);
  });
});

describe('memoryLocalStore', () => {
  it('applies a write batch all or nothing', async () => {
    const store = memoryLocalStore();
    const entry = {
      mutationId: 5,
      collection: 'tasks',
      id: 'a',
      op: 'delete' as const,
      data: null,
      baseVersion: null,
      hlc: V1,
    };
    await store.write([{ type: 'appendOutbox', entry }]);
    await expect(
      store.write([
        { type: 'setMeta', key: 'checkpoint', value: 'c1.x.1' },
        {
          type: 'putDoc',
          doc: { collection: 'tasks', id: 'a', data: null, version: null, server: null },
        },
        { type: 'appendOutbox', entry: { ...entry, mutationId: 5 } }, // not above 5: refused
      ]),
    ).rejects.toThrow(/not above/);
    expect(store.snapshot()).toEqual({ docs: [], outbox: [entry], meta: {} });
  });
});

describe('error classification and backoff', () => {
  it('tells resync, retryable and fatal errors apart', () => {
    const resync = {
      message: 'resync required: the checkpoint is older',
      data: { code: 'CONFLICT', httpStatus: 409, sync: { code: 'RESYNC_REQUIRED' } },
    };
    expect(isResyncRequired(resync)).toBe(true);
    expect(isResyncRequired({ message: 'RESYNC_REQUIRED', data: { code: 'CONFLICT' } })).toBe(true);
    expect(isResyncRequired({ message: 'other', data: { code: 'CONFLICT', sync: null } })).toBe(
      false,
    );
    expect(isRetryable(new TypeError('fetch failed'))).toBe(true);
    expect(
      isRetryable({ message: 'x', data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503 } }),
    ).toBe(true);
    expect(isRetryable({ message: 'x', data: { code: 'BAD_REQUEST', httpStatus: 400 } })).toBe(
      false,
    );
  });

  it('grows the delay exponentially up to the cap, with jitter in the upper half', () => {
    const options = { retries: 10, baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, options, () => 0))).toEqual([
      50, 100, 200, 400, 500,
    ]);
    expect(backoffDelay(2, options, () => 1)).toBe(400);
  });

  it('waits as long as the server asks after TOO_MANY_REQUESTS (data.sync.retryAfterMs), within maxMs', () => {
    const options = { retries: 10, baseMs: 100, maxMs: 1000 };
    const limited = (ms: number) => ({
      message: 'rate limit',
      data: {
        code: 'TOO_MANY_REQUESTS',
        httpStatus: 429,
        sync: { code: 'TOO_MANY_REQUESTS', issues: [], retryAfterMs: ms },
      },
    });
    expect(retryDelay(limited(700), 0, options, () => 0)).toBe(700);
    expect(retryDelay(limited(5000), 0, options, () => 0)).toBe(1000);
    expect(retryDelay(limited(10), 3, options, () => 0)).toBe(400); // the backoff is longer
    expect(retryDelay(new TypeError('fetch failed'), 1, options, () => 0)).toBe(100);
  });
});
