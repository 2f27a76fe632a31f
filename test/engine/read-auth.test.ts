// Read authorization (authorizeCollection) on every face: tRPC (HTTP + WebSocket), REST pull/full, SSE and raw WebSocket.
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AuthorizeCollection } from '../../server/engine/read-auth.js';
import { api, storeCases } from '../rest/harness.js';
import { collect, openSse } from '../rest/sse-client.js';
import { eventually, startServer, type TestServer } from '../trpc/harness.js';

const cases = (await storeCases()).filter(
  (c) => c.name !== 'memory' || !process.env.TEST_DATABASE_URL,
);
const calls: string[] = [];
/** bob may not touch notes; alice may touch everything. */
const authorizeCollection: AuthorizeCollection = async ({ actor, collection, op }) => {
  calls.push(`${actor.userId}:${collection}:${op}`);
  return !(actor.userId === 'bob' && collection === 'notes');
};

async function trpcCode(p: Promise<unknown>) {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return error.data?.code as string;
  }
}

function rawWs(port: number, frame: object) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/sync/stream`);
  const frames: any[] = [];
  let closeCode: number | null = null;
  ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', ...frame })));
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  ws.on('close', (code) => (closeCode = code));
  return { ws, frames, closed: () => closeCode };
}

describe.each(cases)('authorizeCollection on $name', ({ create }) => {
  let srv: TestServer;
  let alice: string;
  let bob: string;
  let head: string;
  beforeAll(async () => {
    srv = await startServer(await create(), { authorizeCollection });
    alice = await srv.token('alice', 'acme');
    bob = await srv.token('bob', 'acme');
    const a = srv.client(alice);
    await a.trpc.sync.push.mutate({
      clientId: 'a1',
      changes: [
        {
          mutationId: 1,
          collection: 'tasks',
          id: 't1',
          op: 'upsert',
          data: { title: 'one' },
          baseVersion: null,
        },
        {
          mutationId: 2,
          collection: 'notes',
          id: 'n1',
          op: 'upsert',
          data: { body: 'secret' },
          baseVersion: null,
        },
      ],
    });
    // A commit that holds only a denied collection: bob's checkpoint must still move past it.
    await a.trpc.sync.push.mutate({
      clientId: 'a1',
      changes: [
        {
          mutationId: 3,
          collection: 'notes',
          id: 'n2',
          op: 'upsert',
          data: { body: 'x' },
          baseVersion: null,
        },
      ],
    });
    head = (await a.trpc.sync.pull.query({})).checkpoint;
  });
  afterAll(async () => srv?.close());

  it('REST pull and full: denied collection left out when none is named, 403 when named', async () => {
    const pull = await api(srv.url, '/sync/pull', { token: bob });
    expect(pull.status).toBe(200);
    expect(pull.json.changes.map((c: any) => c.id)).toEqual(['t1']);
    expect(pull.json.checkpoint).toBe(head);
    const named = await api(srv.url, '/sync/pull?collections=tasks,notes', { token: bob });
    expect(named.status).toBe(403);
    expect(named.json.error).toMatchObject({
      code: 'FORBIDDEN',
      issues: [{ path: 'collections.1' }],
    });
    const full = await api(srv.url, '/sync/full', { token: bob });
    expect(full.status).toBe(200);
    expect(
      full.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['t1']);
    expect((await api(srv.url, '/sync/full?collections=notes', { token: bob })).status).toBe(403);
    // alice still reads everything
    const all = await api(srv.url, '/sync/pull', { token: alice });
    expect(all.json.changes.map((c: any) => c.id).sort()).toEqual(['n1', 'n2', 't1']);
  });

  it('REST push naming a denied collection: 403 and nothing written', async () => {
    const res = await api(srv.url, '/sync/push', {
      token: bob,
      body: {
        clientId: 'b1',
        changes: [
          {
            mutationId: 1,
            collection: 'notes',
            id: 'nb',
            op: 'upsert',
            data: { body: 'b' },
            baseVersion: null,
          },
        ],
      },
    });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('FORBIDDEN');
    const after = await api(srv.url, '/sync/pull', { token: alice });
    expect(after.json.checkpoint).toBe(head);
  });

  it('tRPC pull, full and push', async () => {
    const b = srv.client(bob);
    const pull = await b.trpc.sync.pull.query({});
    expect(pull.changes.map((c) => c.id)).toEqual(['t1']);
    expect(pull.checkpoint).toBe(head);
    const full = await b.trpc.sync.full.query({});
    expect(full.docs.map((d) => d.id)).toEqual(['t1']);
    expect(await trpcCode(b.trpc.sync.pull.query({ collections: ['notes'] }))).toBe('FORBIDDEN');
    expect(await trpcCode(b.trpc.sync.full.query({ collections: ['notes'] }))).toBe('FORBIDDEN');
    expect(
      await trpcCode(
        b.trpc.sync.push.mutate({
          clientId: 'b2',
          changes: [
            { mutationId: 1, collection: 'notes', id: 'x', op: 'delete', baseVersion: null },
          ],
        }),
      ),
    ).toBe('FORBIDDEN');
  });

  it('SSE: 403 when named; unnamed stream skips denied commits and its checkpoint still advances', async () => {
    const denied = await fetch(`${srv.url}/sync/stream?collections=notes`, {
      headers: { authorization: `Bearer ${bob}`, accept: 'text/event-stream' },
    });
    expect(denied.status).toBe(403);
    await denied.body?.cancel();
    const abort = new AbortController();
    const { res, events } = await openSse(
      `${srv.url}/sync/stream`,
      { authorization: `Bearer ${bob}` },
      abort.signal,
    );
    expect(res.status).toBe(200);
    const first = await collect(events, (all) => all.some((e) => e.event === 'heartbeat'));
    const changes = first.filter((e) => e.event === 'changes');
    expect(changes.flatMap((e) => e.data.changes.map((c: any) => c.id))).toEqual(['t1']);
    expect(first.find((e) => e.event === 'heartbeat')!.data.checkpoint).toBe(head);
    abort.abort();
  });

  it('raw WebSocket and tRPC stream: live commits of a denied collection are skipped, others arrive', async () => {
    const refused = rawWs(srv.port, { token: bob, collections: ['notes'] });
    await eventually(() => expect(refused.closed()).toBe(4403));
    expect(refused.frames[0]).toMatchObject({ type: 'error', error: { code: 'FORBIDDEN' } });

    const raw = rawWs(srv.port, { token: bob, since: head });
    const tevents: any[] = [];
    const b = srv.client(bob);
    const errors: unknown[] = [];
    const sub = b.trpc.sync.stream.subscribe(
      { since: head },
      { onData: (e) => tevents.push(e.data), onError: (e) => errors.push(e) },
    );
    const tdenied: unknown[] = [];
    const sub2 = b.trpc.sync.stream.subscribe(
      { collections: ['notes'] },
      { onData: () => undefined, onError: (e) => tdenied.push(e) },
    );
    await eventually(() =>
      expect(
        raw.frames.some((f) => f.type === 'heartbeat') &&
          tevents.some((e) => e.type === 'heartbeat'),
      ).toBe(true),
    );
    const a = srv.client(alice);
    await a.trpc.sync.push.mutate({
      clientId: 'a1',
      changes: [
        {
          mutationId: 4,
          collection: 'notes',
          id: 'n3',
          op: 'upsert',
          data: { body: 'y' },
          baseVersion: null,
        },
      ],
    });
    await a.trpc.sync.push.mutate({
      clientId: 'a1',
      changes: [
        {
          mutationId: 5,
          collection: 'tasks',
          id: 't2',
          op: 'upsert',
          data: { title: 'two' },
          baseVersion: null,
        },
      ],
    });
    const end = (await a.trpc.sync.pull.query({})).checkpoint;
    for (const list of [raw.frames, tevents]) {
      await eventually(() =>
        expect(
          list.filter((f) => f.type === 'changes').flatMap((f) => f.changes.map((c: any) => c.id)),
        ).toEqual(['t2']),
      );
      expect(list.filter((f) => f.type === 'changes').at(-1).checkpoint).toBe(end);
    }
    await eventually(() => expect(tdenied.length).toBe(1));
    expect((tdenied[0] as TRPCClientError<any>).data?.code).toBe('FORBIDDEN');
    expect(errors).toEqual([]);
    sub.unsubscribe();
    sub2.unsubscribe();
    raw.ws.close();
    expect(calls.some((c) => c === 'bob:notes:stream')).toBe(true);
  });
});
