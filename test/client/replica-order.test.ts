/**
 * The replica never moves backwards (findings of the torture harness): a pull page read before this
 * client's acknowledged push, or a page / event older than the stored checkpoint (stream events out
 * of order), leaves the newer local state and checkpoint in place. Real server on PGlite and PostgreSQL.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncClient, memoryLocalStore, type SyncApi } from '../../client/index.js';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createAppRouter, type AppRouter } from '../../server/demo/app-router.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import type { PullResponse } from '../../shared/protocol.js';
import { throwawayPostgresStore } from '../rest/harness.js';

const SECRET = 'replica-order-secret-replica-order-secret';
const cases: { name: string; create: () => Promise<Store> }[] = [{ name: 'pglite', create: async () => pgliteStore() }];
if (process.env.TEST_DATABASE_URL) cases.push({ name: 'postgres', create: async () => throwawayPostgresStore(process.env.TEST_DATABASE_URL!, 'order') });

describe.each(cases)('replica order on $name', ({ create }) => {
  let store: Store;
  let engine: ReturnType<typeof createSyncEngine<typeof demoSchema>>;
  let http: ReturnType<typeof createSyncHttpServer>;
  let url = '';
  beforeAll(async () => {
    store = await create();
    await store.init();
    engine = createSyncEngine({ store, schema: demoSchema, retention: { pruneIntervalMs: 0 } });
    http = createSyncHttpServer({ engine, authenticate: jwtAuthenticator({ secret: SECRET }), router: createAppRouter(engine) });
    ({ url } = await http.listen(0, '127.0.0.1'));
  });
  afterAll(async () => {
    await http?.close();
    await engine?.close();
    await store?.close();
  });

  /** A device whose next pulls can be answered with an earlier, recorded pull answer (a stale page). */
  const device = async (tenant: string, user: string) => {
    const token = await signDevToken(SECRET, { sub: user, tenant, expiresIn: '1h' });
    const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${url}/trpc`, transformer: superjson, headers: { authorization: `Bearer ${token}` } })] });
    const answers: PullResponse[] = [];
    let replay: PullResponse | null = null;
    const api: SyncApi = {
      push: trpc.sync.push,
      full: trpc.sync.full,
      stream: trpc.sync.stream,
      pull: {
        query: async (input) => {
          if (replay) return replay;
          const answer = (await trpc.sync.pull.query(input)) as PullResponse;
          answers.push(answer);
          return answer;
        },
      },
    };
    const client = createSyncClient({ api, schema: demoSchema, store: memoryLocalStore(), retry: { retries: 0, baseMs: 1, maxMs: 1 } });
    return { client, answers, replayNext: (answer: PullResponse | null) => (replay = answer) };
  };

  it('a pull page read before this client\'s acknowledged push does not undo it (read-your-writes)', async () => {
    const b = await device('ord-1', 'b');
    await b.client.collection('tasks').put('t', { title: 'from B' });
    await b.client.sync();
    const a = await device('ord-1', 'a');
    await a.client.pull(); // A holds t as B wrote it
    const stale = a.answers.at(-1)!;
    expect(stale.changes.map((c) => c.id)).toEqual(['t']);
    await a.client.collection('tasks').put('t', { title: 'mine' });
    await a.client.push(); // acknowledged: the server holds "mine", at a newer version
    a.replayNext(stale); // a page the server read before the push, delivered late
    await a.client.pull();
    expect((await a.client.collection('tasks').get('t'))?.title).toBe('mine');
    a.replayNext(null);
    await a.client.sync();
    expect((await a.client.collection('tasks').get('t'))?.title).toBe('mine');
    await a.client.close();
    await b.client.close();
  });

  it('a page older than the stored checkpoint (events out of order) changes nothing and keeps the checkpoint', async () => {
    const a = await device('ord-2', 'a');
    await a.client.collection('tasks').put('x', { title: 'first' });
    await a.client.sync();
    const older = a.answers.at(-1)!;
    const b = await device('ord-2', 'b');
    await b.client.pull();
    await b.client.collection('tasks').put('x', { title: 'second' });
    await b.client.sync();
    await a.client.pull(); // A at the newer checkpoint, x = second
    const checkpoint = await a.client.store.getMeta('checkpoint');
    expect(checkpoint).not.toBe(older.checkpoint);
    a.replayNext({ ...older, changes: [{ collection: 'tasks', id: 'x', op: 'upsert', data: { title: 'first', done: false }, version: older.changes[0]?.version ?? '20260101T000000.000Z-0000-old' }] });
    await a.client.pull();
    expect(await a.client.store.getMeta('checkpoint')).toBe(checkpoint);
    expect((await a.client.collection('tasks').get('x'))?.title).toBe('second');
    await a.client.close();
    await b.client.close();
  });
});
