/**
 * The network half of sync (client/transfer.ts) against the real server (memory store, 127.0.0.1),
 * with the client's API wrapped to record every request and to answer chosen ones with a refusal
 * the server gives in harder-to-reach cases (RESYNC_REQUIRED on a resumed export, a repeated
 * CLIENT_ID_CONFLICT, a push answer that answers nothing). Also `splitBatch`, a pure function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type SyncApi,
  type SyncClientOptions,
} from '../../client/index.js';
import { splitBatch } from '../../client/transfer.js';
import { demoSchema } from '../../server/demo/schema.js';
import type { FullInput, PullInput, PushInput } from '../../shared/protocol.js';
import { trpcError } from './fake-view-api.js';
import { looseSchema, startClientServer, type ClientTestServer } from './harness.js';

const resyncRequired = () =>
  trpcError(
    'CONFLICT',
    409,
    'RESYNC_REQUIRED: the checkpoint is older than the kept history',
    'RESYNC_REQUIRED',
  );

describe('splitBatch', () => {
  const refusal = (...paths: string[]) => ({
    code: 'BAD_REQUEST',
    message: 'refused',
    issues: paths.map((path) => ({ path, message: 'bad' })),
  });
  const batch = ['a', 'b', 'c', 'd', 'e'];

  it('takes each named entry alone and the runs between them together, in order', () => {
    expect(splitBatch(batch, refusal('changes.1', 'changes.3.data.title'))).toEqual([
      ['a'],
      ['b'],
      ['c'],
      ['d'],
      ['e'],
    ]);
    expect(splitBatch(batch, refusal('changes.0'))).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    expect(splitBatch(batch, refusal('changes.4'))).toEqual([['a', 'b', 'c', 'd'], ['e']]);
    expect(splitBatch(batch, refusal('changes.2', 'changes.2.data'))).toEqual([
      ['a', 'b'],
      ['c'],
      ['d', 'e'],
    ]);
  });

  it('reads every digit of an index, and only a path that starts with changes.<i> followed by a dot or its end', () => {
    const long = Array.from({ length: 14 }, (_, i) => i);
    expect(splitBatch(long, refusal('changes.12'))).toEqual([long.slice(0, 12), [12], [13]]);
    // Not an index of this batch: halves.
    expect(splitBatch(batch, refusal('clientId.changes.1'))).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(splitBatch(batch, refusal('changes.1x'))).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(splitBatch(batch, refusal('changes.5'))).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('halves without a usable index; one entry stays one part (no empty part)', () => {
    expect(splitBatch(batch, refusal())).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(splitBatch(['a'], refusal())).toEqual([['a']]);
    expect(splitBatch(['a', 'b'], refusal('body'))).toEqual([['a'], ['b']]);
  });
});

describe('push, pull and resync against the real server (requests recorded)', () => {
  let server: ClientTestServer;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    server = await startClientServer();
  }, 60_000);
  afterAll(async () => {
    for (const close of closers) await close();
    await server?.close();
  });

  interface Hooks {
    push?: (input: PushInput, real: SyncApi) => Promise<unknown>;
    pull?: (input: PullInput, real: SyncApi) => Promise<unknown>;
    full?: (input: FullInput, real: SyncApi) => Promise<unknown>;
  }

  /** A device of `tenant` whose every request is recorded; `hooks` may answer one in the server's stead. */
  async function device(
    tenant: string,
    hooks: Hooks = {},
    options: Partial<SyncClientOptions<typeof demoSchema>> = {},
    store: LocalStore = memoryLocalStore(),
  ) {
    const { trpc } = await server.device(tenant);
    const real = trpc.sync as unknown as SyncApi;
    const calls = { push: [] as PushInput[], pull: [] as PullInput[], full: [] as FullInput[] };
    const api: SyncApi = {
      push: {
        mutate: (input: PushInput) => {
          calls.push.push(input);
          return (hooks.push ? hooks.push(input, real) : real.push.mutate(input)) as never;
        },
      },
      pull: {
        query: (input: PullInput) => {
          calls.pull.push(input);
          return (hooks.pull ? hooks.pull(input, real) : real.pull.query(input)) as never;
        },
      },
      full: {
        query: (input: FullInput) => {
          calls.full.push(input);
          return (hooks.full ? hooks.full(input, real) : real.full.query(input)) as never;
        },
      },
      stream: real.stream,
    } as SyncApi;
    const client = createSyncClient({
      api,
      schema: demoSchema,
      store,
      connectivity: null,
      ping: false,
      retry: { retries: 2, baseMs: 5, maxMs: 20 },
      ...options,
    } as SyncClientOptions<typeof demoSchema>);
    const progress: { phase: string; done: number; total?: number }[] = [];
    client.on('progress', (p) => void progress.push({ ...p }));
    closers.push(() => client.close());
    return { client, calls, progress, store };
  }

  /** Writes `n` tasks through a plain device of `tenant` and pushes them. */
  async function seed(tenant: string, n: number, prefix = 's') {
    const { client } = await device(tenant);
    // One push (one commit) per task: a pull page ends only between commits.
    for (let i = 0; i < n; i++) {
      await client.collection('tasks').put(`${prefix}${i}`, { title: `${prefix} ${i}` });
      await client.push();
    }
  }

  it('pushes in atomic batches of batchSize with progress against the outbox size, under the client id another tab stored', async () => {
    const { client, calls, progress, store } = await device('t-push', {}, { batchSize: 2 });
    for (const id of ['a', 'b', 'c']) await client.collection('tasks').put(id, { title: id });
    // Another tab of this store took a new client id: the push uses it.
    await store.write([{ type: 'setMeta', key: 'clientId', value: 'tab-two-id' }]);
    expect(await client.push()).toBe(3);
    expect(calls.push.map((p) => [p.clientId, p.atomic, p.changes.map((c) => c.id)])).toEqual([
      ['tab-two-id', true, ['a', 'b']],
      ['tab-two-id', true, ['c']],
    ]);
    expect(progress).toEqual([
      { phase: 'push', done: 2, total: 3 },
      { phase: 'push', done: 3, total: 3 },
    ]);
  });

  it('stops when the server answers none of a batch: the entries stay in the outbox', async () => {
    const { client, calls } = await device('t-none', {
      push: async () => ({ results: [], serverTime: new Date().toISOString() }),
    });
    await client.collection('tasks').put('x', { title: 'x' });
    expect(await client.push()).toBe(0);
    expect(calls.push).toHaveLength(1);
    expect(await client.pending()).toBe(1);
  });

  it('a batch refused for one change is split around it: that one is rejected, the others go through', async () => {
    const { client, calls } = await device('t-split', {}, { schema: looseSchema } as never);
    const tasks = client.collection('tasks') as unknown as {
      put(id: string, doc: Record<string, unknown>): Promise<void>;
    };
    await tasks.put('ok-1', { title: 'fine' });
    await tasks.put('bad', { title: 42 }); // the server's schema wants a string
    await tasks.put('ok-2', { title: 'fine too' });
    expect(await client.push()).toBe(3);
    expect(calls.push.map((p) => p.changes.map((c) => c.id))).toEqual([
      ['ok-1', 'bad', 'ok-2'],
      ['ok-1'],
      ['bad'],
      ['ok-2'],
    ]);
    expect((await client.deadLetters()).map((r) => r.change.id)).toEqual(['bad']);
    expect(await client.pending()).toBe(0);
  });

  it('stops at a part of a split batch the server did not answer: no later change overtakes it', async () => {
    let first = true;
    const { client, calls } = await device('t-part', {
      push: async (input, real) => {
        if (first) {
          first = false;
          return Promise.reject(
            Object.assign(trpcError('BAD_REQUEST', 400, 'changes.1.data.title: bad'), {
              data: {
                code: 'BAD_REQUEST',
                httpStatus: 400,
                sync: {
                  code: 'BAD_REQUEST',
                  message: 'bad',
                  issues: [{ path: 'changes.1.data.title', message: 'bad' }],
                },
              },
            }),
          );
        }
        // The first part goes unanswered.
        if (input.changes[0]!.id === 'a')
          return { results: [], serverTime: new Date().toISOString() };
        return real.push.mutate(input);
      },
    });
    for (const id of ['a', 'b', 'c']) await client.collection('tasks').put(id, { title: id });
    expect(await client.push()).toBe(0);
    expect(calls.push.map((p) => p.changes.map((c) => c.id))).toEqual([['a', 'b', 'c'], ['a']]);
    expect(await client.pending()).toBe(3);
  });

  it('takes a new client id at most 3 times in one push, then reports the refusal; each time the outbox is renumbered under the new id', async () => {
    const refused = () =>
      Object.assign(new Error('CLIENT_ID_CONFLICT: this client id holds other changes'), {
        data: {
          code: 'CONFLICT',
          httpStatus: 409,
          sync: {
            code: 'CLIENT_ID_CONFLICT',
            message: 'this client id holds other changes',
            issues: [],
            recorded: [],
          },
        },
      });
    const { client, calls } = await device('t-ids', {
      push: async () => Promise.reject(refused()),
    });
    const ids: string[] = [];
    client.on('clientId', (e) => void ids.push(e.clientId));
    await client.collection('tasks').put('x', { title: 'x' });
    await expect(client.push()).rejects.toMatchObject({
      data: { sync: { code: 'CLIENT_ID_CONFLICT' } },
    });
    expect(calls.push).toHaveLength(4);
    expect(new Set(calls.push.map((p) => p.clientId)).size).toBe(4);
    expect(ids).toHaveLength(3);
    expect(await client.pending()).toBe(1);
  });

  it('a pull error other than RESYNC_REQUIRED is thrown: no export is read', async () => {
    const { client, calls } = await device('t-pull-error', {
      pull: async () => Promise.reject(trpcError('BAD_REQUEST', 400, 'limit: too big')),
    });
    await expect(client.pull()).rejects.toThrow(/limit/);
    expect(calls.full).toEqual([]);
  });

  it('pull pages report progress only for pages that hold changes, and count what they applied', async () => {
    await seed('t-pages', 5);
    const { client, progress, calls } = await device('t-pages', {}, { pullLimit: 2 });
    expect(await client.pull()).toBe(5);
    expect(progress.filter((p) => p.phase === 'pull')).toEqual([
      { phase: 'pull', done: 2 },
      { phase: 'pull', done: 4 },
      { phase: 'pull', done: 5 },
    ]);
    progress.length = 0;
    const before = calls.pull.length;
    expect(await client.pull()).toBe(0); // nothing new: one empty page, no progress
    expect(calls.pull.length).toBe(before + 1);
    expect(progress).toEqual([]);
  });

  it('RESYNC_REQUIRED on pull rebuilds from full (the collections option narrows it) and counts the export and the catch-up', async () => {
    await seed('t-resync', 3);
    let refuse = true;
    const { client, calls, progress } = await device(
      't-resync',
      {
        pull: async (input, real) => {
          if (refuse && input.since === null) {
            refuse = false;
            return Promise.reject(resyncRequired());
          }
          return real.pull.query(input);
        },
      },
      { collections: ['tasks'] },
    );
    const resyncs: { docs: number; checkpoint: string }[] = [];
    client.on('resync', (e) => void resyncs.push(e));
    expect(await client.pull()).toBe(3);
    expect(calls.full.map((f) => f.collections)).toEqual([['tasks']]);
    expect(resyncs).toHaveLength(1);
    expect(resyncs[0]!.docs).toBe(3);
    expect(typeof resyncs[0]!.checkpoint).toBe('string');
    expect(progress.filter((p) => p.phase === 'full')).toEqual([{ phase: 'full', done: 3 }]);
    expect((await client.collection('tasks').query()).map((r) => r.id).sort()).toEqual([
      's0',
      's1',
      's2',
    ]);
  });

  it('a resync counts the writes its catch-up pull brings (made while the export was read)', async () => {
    await seed('t-catch-up', 2);
    let wrote = false;
    const { client } = await device('t-catch-up', {
      pull: async (input, real) =>
        input.since === null ? Promise.reject(resyncRequired()) : real.pull.query(input),
      full: async (input, real) => {
        const page = await real.full.query(input);
        if (!wrote) {
          wrote = true;
          await seed('t-catch-up', 1, 'late');
        }
        return page;
      },
    });
    expect(await client.pull()).toBe(3);
    expect((await client.collection('tasks').query()).map((r) => r.id).sort()).toEqual([
      'late0',
      's0',
      's1',
    ]);
  });

  it("the last pull page's checksums find a change the client missed, which is repaired and counted", async () => {
    await seed('t-missed', 2);
    let drop = false;
    const { client } = await device('t-missed', {
      pull: async (input, real) => {
        const page = (await real.pull.query(input)) as { changes: { id: string }[] };
        // A page that lost one change on the way: only the checksums can tell.
        if (drop) page.changes = page.changes.filter((c) => c.id !== 'm0');
        return page;
      },
    });
    const events: { collection: string; repaired: number | null }[] = [];
    client.on(
      'integrity',
      (e) => void events.push({ collection: e.collection, repaired: e.repaired }),
    );
    await client.pull();
    await seed('t-missed', 2, 'm');
    drop = true;
    expect(await client.pull()).toBe(2); // m1 pulled, m0 repaired
    expect(events).toEqual([{ collection: 'tasks', repaired: 1 }]);
    expect((await client.collection('tasks').query()).map((r) => r.id).sort()).toEqual([
      'm0',
      'm1',
      's0',
      's1',
    ]);
    // With integrity checks off the same pages are applied as they come, without a comparison.
    const { client: unchecked } = await device('t-missed', {}, { integrity: false });
    expect(await unchecked.pull()).toBe(4);
  });

  it('an audit (auditIntervalMs: 0, not on a fresh store) recomputes the sums from the documents and finds one edited behind the client', async () => {
    await seed('t-audit', 2);
    const { client, store } = await device('t-audit', {}, { integrity: { auditIntervalMs: 0 } });
    const events: string[] = [];
    client.on('integrity', (e) => void events.push(e.collection));
    await client.pull(); // fresh: no audit
    expect(events).toEqual([]);
    const doc = await store.getDoc('tasks', 's0');
    await store.write([
      { type: 'putDoc', doc: { ...doc!, server: { title: 'edited behind', done: false } } },
    ]);
    await seed('t-audit', 1, 'a');
    await client.pull();
    expect(events).toEqual(['tasks']);
  });

  it('a second RESYNC_REQUIRED right after a resync is thrown, not looped on', async () => {
    await seed('t-twice', 1);
    const { client, calls } = await device('t-twice', {
      pull: async () => Promise.reject(resyncRequired()),
    });
    await expect(client.pull()).rejects.toThrow(/RESYNC_REQUIRED/);
    expect(calls.full).toHaveLength(1);
    expect(calls.pull).toHaveLength(2);
  });

  it('a resync cut short resumes from its last page at the next pull; a resumed export whose cursor expired starts over', async () => {
    await seed('t-resume', 4);
    let failNext = false;
    let expireNext = false;
    const { client, calls, store } = await device(
      't-resume',
      {
        pull: async (input, real) =>
          input.since === null ? Promise.reject(resyncRequired()) : real.pull.query(input),
        full: async (input, real) => {
          if (input.cursor && failNext) {
            failNext = false;
            return Promise.reject(trpcError('BAD_REQUEST', 400, 'cut short (test)'));
          }
          if (input.cursor && expireNext) {
            expireNext = false;
            return Promise.reject(resyncRequired());
          }
          return real.full.query(input);
        },
      },
      { fullLimit: 2 },
    );
    failNext = true;
    await expect(client.pull()).rejects.toThrow(/cut short/);
    const saved = await store.getMeta('resync');
    expect(saved).toMatchObject({ done: 2 });
    expect(saved!.cursor).not.toBeNull();
    // Resumed: the next pull reads on from the saved cursor, and the export's cursor expired: it starts over once.
    expireNext = true;
    const first = calls.full.length;
    expect(await client.pull()).toBeGreaterThanOrEqual(4);
    expect(calls.full.slice(first).map((f) => f.cursor ?? null)).toEqual([
      saved!.cursor,
      null,
      expect.any(String),
    ]);
    expect(await store.getMeta('resync')).toBeFalsy();
    expect((await client.collection('tasks').query()).map((r) => r.id).sort()).toEqual([
      's0',
      's1',
      's2',
      's3',
    ]);
  });

  it('an export read to its end but not finished (the app closed) is finished without reading it again', async () => {
    await seed('t-finished', 2);
    const { client: reader, store: held } = await device('t-finished');
    await reader.pull();
    const checkpoint = await held.getMeta('checkpoint');
    // What the export's pages stored (documents marked with the resync's mark, their sums), and its progress.
    const store = memoryLocalStore();
    const docs = await Promise.all(['s0', 's1'].map((id) => held.getDoc('tasks', id)));
    await store.write([
      ...docs.map((doc) => ({ type: 'putDoc' as const, doc: { ...doc!, mark: 'rtest' } })),
      { type: 'setMeta', key: 'checksums', value: (await held.getMeta('checksums')) ?? {} },
      {
        type: 'setMeta',
        key: 'resync',
        value: { mark: 'rtest', cursor: null, checkpoint, done: 2 },
      },
    ]);
    const { client, calls } = await device('t-finished', {}, {}, store);
    expect(await client.pull()).toBe(2);
    expect(calls.full).toEqual([]);
    expect(calls.pull.map((p) => p.since)).toEqual([checkpoint]);
    expect(await store.getMeta('resync')).toBeFalsy();
  });

  it('a first export refused with RESYNC_REQUIRED (no cursor yet) is thrown, not retried forever', async () => {
    const { client, calls } = await device('t-first-refused', {
      pull: async () => Promise.reject(resyncRequired()),
      full: async () => Promise.reject(resyncRequired()),
    });
    await expect(client.pull()).rejects.toThrow(/RESYNC_REQUIRED/);
    expect(calls.full).toHaveLength(1);
  });
});
