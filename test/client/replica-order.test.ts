/**
 * The replica never moves backwards (findings of the torture harness): a pull page read before this
 * client's acknowledged push, or a page / event older than the stored checkpoint (stream events out
 * of order), leaves the newer local state and checkpoint in place. Real server on PGlite and PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSyncClient,
  memoryLocalStore,
  type SyncApi,
  type SyncClient,
} from '../../client/index.js';
import { demoSchema } from '../../server/demo/schema.js';
import type { PullResponse } from '../../shared/protocol.js';
import { realStoreCases, useRealServer } from './real-server.js';

describe.each(realStoreCases('order'))('replica order on $name', (storeCase) => {
  const server = useRealServer(storeCase);
  const open: SyncClient<typeof demoSchema>[] = [];
  afterAll(async () => {
    for (const client of open) await client.close().catch(() => undefined);
  });

  /** A device whose next pulls can be answered with an earlier, recorded pull answer (a stale page). */
  const device = async (tenant: string, user: string) => {
    const trpc = await server().trpcFor(user, tenant);
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
    const client = createSyncClient({
      api,
      schema: demoSchema,
      store: memoryLocalStore(),
      retry: { retries: 0, baseMs: 1, maxMs: 1 },
    });
    open.push(client);
    return { client, answers, replayNext: (answer: PullResponse | null) => (replay = answer) };
  };

  it("a pull page read before this client's acknowledged push does not undo it (read-your-writes)", async () => {
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
    a.replayNext({
      ...older,
      changes: [
        {
          collection: 'tasks',
          id: 'x',
          op: 'upsert',
          data: { title: 'first', done: false },
          version: older.changes[0]?.version ?? '20260101T000000.000Z-0000-old',
        },
      ],
    });
    await a.client.pull();
    expect(await a.client.store.getMeta('checkpoint')).toBe(checkpoint);
    expect((await a.client.collection('tasks').get('x'))?.title).toBe('second');
  });
});
