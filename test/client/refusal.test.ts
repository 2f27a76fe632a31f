/**
 * A push the server refuses as a whole (BAD_REQUEST, PAYLOAD_TOO_LARGE): the client isolates the
 * refused entries, records them as rejected and keeps syncing the rest — against real servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSyncSchema } from '../../shared/schema.js';
import type { PushInput } from '../../shared/protocol.js';
import { createSyncClient, type ConflictEvent, type SyncApi } from '../../client/index.js';
import { pushRefusal } from '../../client/retry.js';
import { splitBatch } from '../../client/transfer.js';
import {
  eventually,
  looseSchema,
  serverStoreCases,
  startClientServer,
  type ClientTestServer,
} from './harness.js';

for (const storeCase of await serverStoreCases()) {
  describe(`server on ${storeCase.name}`, () => {
    let server: ClientTestServer;
    /** Small limits: documents up to 200 bytes, at most 4 changes per push. */
    let small: ClientTestServer;
    beforeAll(async () => {
      server = await startClientServer({ store: storeCase });
      small = await startClientServer({
        store: storeCase,
        limits: { maxDocumentBytes: 200, maxChangesPerPush: 4 },
      });
    });
    afterAll(async () => {
      await server?.close();
      await small?.close();
    });

    /** The mutation ids of `clientId` in the server's oplog, in commit order. */
    const appliedIds = async (s: ClientTestServer, scope: string, clientId: string) =>
      (await s.oplog(scope, clientId)).map((e) => e.mutationId);

    describe('a push refused as a whole', () => {
      it('isolates a change the stricter server schema refuses (BAD_REQUEST); the others go through exactly once', async () => {
        const a = await server.deviceWith(looseSchema, 't-refuse', 'a');
        const tasks = a.client.collection('tasks');
        const conflicts: ConflictEvent[] = [];
        a.client.on('conflict', (c) => conflicts.push(c));
        await tasks.put('e1', { title: 'existing' });
        await a.client.sync(); // mutation 1

        a.control.offline = true;
        await tasks.patch('e1', { title: 7 }); // 2: refused
        await tasks.put('g1', { title: 'good 1' }); // 3
        await tasks.put('bad', { title: 42 }); // 4: refused
        await tasks.put('g2', { title: 'good 2' }); // 5
        expect(await tasks.get('e1')).toEqual({ title: 7, done: false }); // optimistic
        await expect(a.client.sync()).rejects.toThrow(/network unreachable/);
        a.control.offline = false;
        a.control.dropPushResponses = 1; // an accepted sub-batch's answer is lost too: retried, answered duplicate

        expect(await a.client.sync()).toMatchObject({ pushed: 4 });
        expect(await a.client.pending()).toBe(0);
        expect(await appliedIds(server, 't-refuse', 'a')).toEqual([1, 3, 5]);
        const pushes = server.events.flatMap((e) =>
          e.type === 'push' && e.actor.scopeId === 't-refuse' ? [e] : [],
        );
        expect(pushes.some((e) => e.duplicates > 0)).toBe(true); // the lost answer was retried and not applied twice

        expect(conflicts.map((c) => [c.status, c.id, c.mutationId, c.error?.code])).toEqual([
          ['rejected', 'e1', 2, 'BAD_REQUEST'],
          ['rejected', 'bad', 4, 'BAD_REQUEST'],
        ]);
        for (const c of conflicts) {
          expect(c.error?.message).toMatch(/title/);
          expect(c.error?.issues?.map((i) => i.path)).toEqual(['changes.0.data.title']);
        }
        const rejected = await a.client.rejected();
        expect(
          rejected.map((r) => [r.kind, r.change.id, r.change.mutationId, r.error.code]),
        ).toEqual([
          ['request', 'e1', 2, 'BAD_REQUEST'],
          ['request', 'bad', 4, 'BAD_REQUEST'],
        ]);
        expect(rejected[1]!.change.data).toEqual({ title: 42, done: false });

        // The documents went back to the server state: e1 as stored, `bad` never existed there.
        expect(await tasks.get('e1')).toEqual({ title: 'existing', done: false });
        expect(await tasks.get('bad')).toBeUndefined();
        const full = await (await server.device('t-refuse', 'reader')).trpc.sync.full.query({});
        expect(Object.fromEntries(full.docs.map((d) => [d.id, d.data]))).toEqual({
          e1: { title: 'existing', done: false },
          g1: { title: 'good 1', done: false },
          g2: { title: 'good 2', done: false },
        });

        // Nothing is stuck: a later write syncs at once, with the next mutation id.
        await tasks.put('g3', { title: 'later' });
        expect(await a.client.sync()).toMatchObject({ pushed: 1 });
        expect(await appliedIds(server, 't-refuse', 'a')).toEqual([1, 3, 5, 6]);
        expect(await a.client.pending()).toBe(0);

        // Survives in the local store until the app clears it.
        expect(await a.client.store.getMeta('rejected')).toHaveLength(2);
        await a.client.clearRejected([2]);
        expect((await a.client.rejected()).map((r) => r.change.mutationId)).toEqual([4]);
        await a.client.clearRejected();
        expect(await a.client.rejected()).toEqual([]);
      });

      it('isolates a document above limits.maxDocumentBytes (PAYLOAD_TOO_LARGE)', async () => {
        const a = await small.device('t-large', 'a');
        const conflicts: ConflictEvent[] = [];
        a.client.on('conflict', (c) => conflicts.push(c));
        const notes = a.client.collection('notes');
        await notes.put('n1', { body: 'small' });
        await notes.put('n2', { body: 'x'.repeat(500) });
        await notes.put('n3', { body: 'small too' });
        expect(await a.client.sync()).toMatchObject({ pushed: 3 });
        expect(await a.client.pending()).toBe(0);
        expect(await appliedIds(small, 't-large', 'a')).toEqual([1, 3]);
        expect(conflicts).toMatchObject([
          {
            status: 'rejected',
            id: 'n2',
            mutationId: 2,
            error: { code: 'PAYLOAD_TOO_LARGE', issues: [{ path: 'changes.0.data' }] },
          },
        ]);
        expect(conflicts[0]!.error?.message).toMatch(/maxDocumentBytes/);
        expect((await a.client.rejected()).map((r) => [r.change.id, r.error.code])).toEqual([
          ['n2', 'PAYLOAD_TOO_LARGE'],
        ]);
        expect(await notes.get('n2')).toBeUndefined();
        await notes.put('n4', { body: 'after' });
        expect(await a.client.sync()).toMatchObject({ pushed: 1 });
        expect(await appliedIds(small, 't-large', 'a')).toEqual([1, 3, 4]);
      });

      it('splits a batch above limits.maxChangesPerPush in halves and loses nothing', async () => {
        const a = await small.device('t-many', 'a');
        for (let i = 0; i < 10; i++)
          await a.client.collection('notes').put(`m${i}`, { body: `note ${i}` });
        const before = small.events.length;
        expect(await a.client.sync()).toMatchObject({ pushed: 10 });
        expect(await appliedIds(small, 't-many', 'a')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(
          small.events.slice(before).flatMap((e) => (e.type === 'push' ? [e.changes] : [])),
        ).toEqual([3, 2, 3, 2]);
        expect(await a.client.rejected()).toEqual([]);
      });

      it('keeps syncing in live mode past a refused change', async () => {
        const a = await server.deviceWith(looseSchema, 't-refuse-live', 'a');
        await a.client.start();
        try {
          await a.client.collection('tasks').put('lbad', { title: 1 });
          await a.client.collection('tasks').put('lgood', { title: 'fine' });
          await eventually(async () => expect(await a.client.pending()).toBe(0), 15_000);
          expect((await a.client.rejected()).map((r) => r.change.id)).toEqual(['lbad']);
          await a.client.collection('tasks').put('lgood2', { title: 'also fine' });
          await eventually(async () => expect(await a.client.pending()).toBe(0), 15_000);
          expect((await server.oplog('t-refuse-live', 'a')).map((e) => e.id).sort()).toEqual([
            'lgood',
            'lgood2',
          ]);
        } finally {
          await a.client.stop();
        }
      });
    });
  });
}

/** A tRPC-like error of the sync router. */
function trpcError(
  code: string,
  httpStatus: number,
  sync: { code: string; issues: { path: string; message: string }[] } | null,
) {
  return Object.assign(new Error(`${code}: refused`), { data: { code, httpStatus, sync } });
}

describe('without a server', () => {
  it('tells refusals of the changes from network and request-level errors', () => {
    expect(
      pushRefusal(
        trpcError('BAD_REQUEST', 400, {
          code: 'BAD_REQUEST',
          issues: [{ path: 'changes.3.data.title', message: 'x' }],
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST' });
    expect(
      pushRefusal(
        trpcError('PAYLOAD_TOO_LARGE', 413, {
          code: 'PAYLOAD_TOO_LARGE',
          issues: [{ path: '', message: 'x' }],
        }),
      ),
    ).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(pushRefusal(trpcError('PAYLOAD_TOO_LARGE', 413, null))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    }); // a body limit outside the sync kit
    expect(
      pushRefusal(
        trpcError('BAD_REQUEST', 400, {
          code: 'BAD_REQUEST',
          issues: [{ path: 'clientId', message: 'x' }],
        }),
      ),
    ).toBeNull();
    expect(pushRefusal(trpcError('BAD_REQUEST', 400, null))).toBeNull(); // not from the sync kit: request-level
    expect(pushRefusal(trpcError('INTERNAL_SERVER_ERROR', 500, null))).toBeNull();
    expect(
      pushRefusal(trpcError('UNAUTHORIZED', 401, { code: 'UNAUTHORIZED', issues: [] })),
    ).toBeNull();
    expect(pushRefusal(new TypeError('fetch failed'))).toBeNull();
  });

  it('splits around the entries the issues name, else in halves, keeping order', () => {
    const batch = [1, 2, 3, 4, 5, 6];
    const refusal = (...paths: string[]) => ({
      code: 'BAD_REQUEST' as const,
      message: '',
      issues: paths.map((path) => ({ path, message: '' })),
    });
    expect(splitBatch(batch, refusal('changes.2.data.title', 'changes.3.data'))).toEqual([
      [1, 2],
      [3],
      [4],
      [5, 6],
    ]);
    expect(splitBatch(batch, refusal('changes.0.data'))).toEqual([[1], [2, 3, 4, 5, 6]]);
    expect(splitBatch(batch, refusal('changes', 'changes.99.data'))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(splitBatch([1, 2, 3], refusal(''))).toEqual([[1, 2], [3]]);
  });

  it('does not drain the outbox on a request-level BAD_REQUEST: sync() throws and the entries stay', async () => {
    const schema = defineSyncSchema({ tasks: z.object({ title: z.string() }) });
    const pushes: PushInput[] = [];
    const api: SyncApi = {
      push: {
        async mutate(input) {
          pushes.push(input);
          throw trpcError('BAD_REQUEST', 400, {
            code: 'BAD_REQUEST',
            issues: [{ path: 'clientId', message: 'must be at most 128 characters' }],
          });
        },
      },
      pull: { query: async () => ({ changes: [], checkpoint: 'c1.e.1', hasMore: false }) },
      full: { query: async () => ({ docs: [], cursor: null, checkpoint: 'c1.e.1' }) },
      stream: { subscribe: () => ({ unsubscribe() {} }) },
    };
    const client = createSyncClient({ api, schema, clientId: 'dev1' });
    await client.collection('tasks').put('a', { title: 'A' });
    await client.collection('tasks').put('b', { title: 'B' });
    await expect(client.sync()).rejects.toThrow(/refused/);
    expect(pushes).toHaveLength(1);
    expect(await client.pending()).toBe(2);
    expect(await client.rejected()).toEqual([]);
  });

  it('records a per-change `rejected` result in rejected() too', async () => {
    const schema = defineSyncSchema({ tasks: z.object({ title: z.string() }) });
    const V = '20260502T120001.000Z-0000-srv1';
    const api: SyncApi = {
      push: {
        mutate: async (input) => ({
          serverTime: V,
          results: input.changes.map((c) =>
            c.id === 'no'
              ? {
                  mutationId: c.mutationId,
                  collection: c.collection,
                  id: c.id,
                  status: 'rejected' as const,
                  error: { code: 'FORBIDDEN' as const, message: 'not yours' },
                }
              : {
                  mutationId: c.mutationId,
                  collection: c.collection,
                  id: c.id,
                  status: 'accepted' as const,
                  version: V,
                },
          ),
        }),
      },
      pull: { query: async () => ({ changes: [], checkpoint: 'c1.e.1', hasMore: false }) },
      full: { query: async () => ({ docs: [], cursor: null, checkpoint: 'c1.e.1' }) },
      stream: { subscribe: () => ({ unsubscribe() {} }) },
    };
    const client = createSyncClient({ api, schema, clientId: 'dev1' });
    const conflicts: ConflictEvent[] = [];
    client.on('conflict', (c) => conflicts.push(c));
    await client.collection('tasks').put('yes', { title: 'ok' });
    await client.collection('tasks').put('no', { title: 'nope' });
    expect(await client.sync()).toMatchObject({ pushed: 2 });
    expect(conflicts).toMatchObject([
      { status: 'rejected', id: 'no', error: { code: 'FORBIDDEN', message: 'not yours' } },
    ]);
    expect((await client.rejected()).map((r) => [r.kind, r.change.id, r.error.code])).toEqual([
      ['result', 'no', 'FORBIDDEN'],
    ]);
    expect(await client.collection('tasks').get('no')).toBeUndefined();
    expect(await client.collection('tasks').get('yes')).toEqual({ title: 'ok' });
  });
});
