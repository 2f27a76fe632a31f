/** End to end over real HTTP, WebSocket and SSE with real tRPC clients, on the memory store and on PGlite. */
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeCases } from '../rest/harness.js';
import type { Store } from '../../server/stores/store.js';
import type { StreamEvent } from '../../shared/protocol.js';
import { eventually, startServer, type TestClient, type TestServer } from './harness.js';

type Got = { id: string; data: StreamEvent };

function subscribe(
  client: TestClient,
  input: { since?: string | null; collections?: string[] } = {},
) {
  const events: Got[] = [];
  const errors: unknown[] = [];
  const sub = client.trpc.sync.stream.subscribe(input, {
    onData: (e) => events.push(e),
    onError: (e) => errors.push(e),
  });
  const changes = () =>
    events
      .filter((e) => e.data.type === 'changes')
      .flatMap((e) => (e.data.type === 'changes' ? e.data.changes : []));
  return { events, errors, changes, stop: () => sub.unsubscribe() };
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; sync: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return { code: error.data?.code, sync: error.data?.sync };
  }
  throw new Error('expected an error');
}

/** memory, PGlite and PostgreSQL when TEST_DATABASE_URL is set. */
const stores: [string, () => Promise<Store>][] = (await storeCases()).map((c) => [
  c.name,
  c.create,
]);

describe.each(stores)('tRPC sync router on %s', (_name, newStore) => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient; // same tenant as alice
  let eve: TestClient; // another tenant
  let n = 0;
  const task = (id: string, title: string) => ({
    mutationId: ++n,
    collection: 'tasks' as const,
    id,
    op: 'upsert' as const,
    data: { title },
  });

  beforeAll(async () => {
    server = await startServer(await newStore());
    alice = server.client(await server.token('alice', 'acme'));
    bob = server.client(await server.token('bob', 'acme'));
    eve = server.client(await server.token('eve', 'evil'));
  }, 90_000);
  afterAll(() => server?.close());

  it('pushes and pulls within the tenant', async () => {
    const res = await alice.trpc.sync.push.mutate({
      clientId: 'a1',
      changes: [task('t1', 'Milk'), task('t2', 'Eggs')],
    });
    expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    const pulled = await bob.trpc.sync.pull.query({});
    expect(pulled.changes.map((c) => c.id).sort()).toEqual(['t1', 't2']);
    expect(pulled.changes[0]!.data).toMatchObject({ done: false });
    const again = await bob.trpc.sync.pull.query({ since: pulled.checkpoint });
    expect(again.changes).toEqual([]);
  });

  it('answers a retried push as a duplicate', async () => {
    const change = task('t3', 'Bread');
    await alice.trpc.sync.push.mutate({ clientId: 'a1', changes: [change] });
    const retry = await alice.trpc.sync.push.mutate({ clientId: 'a1', changes: [change] });
    expect(retry.results[0]!.status).toBe('duplicate');
  });

  it('pages a full export with one checkpoint', async () => {
    const first = await alice.trpc.sync.full.query({ limit: 2 });
    expect(first.docs).toHaveLength(2);
    expect(first.cursor).not.toBeNull();
    const second = await alice.trpc.sync.full.query({ limit: 2, cursor: first.cursor });
    expect(second.checkpoint).toBe(first.checkpoint);
    expect([...first.docs, ...second.docs].map((d) => d.id)).toEqual(['t1', 't2', 't3']);
    expect(second.cursor).toBeNull();
  });

  it('never shows or changes another tenant’s documents', async () => {
    expect((await eve.trpc.sync.pull.query({})).changes).toEqual([]);
    expect((await eve.trpc.sync.full.query({})).docs).toEqual([]);
    await eve.trpc.sync.push.mutate({
      clientId: 'e1',
      changes: [
        { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'pwned' } },
      ],
    });
    const mine = await alice.trpc.sync.full.query({});
    expect(mine.docs.find((d) => d.id === 't1')!.data).toMatchObject({ title: 'Milk' });
    const evesStream = subscribe(eve);
    await alice.trpc.sync.push.mutate({ clientId: 'a1', changes: [task('t4', 'secret')] });
    await eventually(() => expect(evesStream.changes().map((c) => c.id)).toEqual(['t1']));
    // A fence: eve's own next write; once it arrived, alice's earlier t4 would have too if it leaked.
    await eve.trpc.sync.push.mutate({
      clientId: 'e1',
      changes: [
        { mutationId: 2, collection: 'tasks', id: 'fence', op: 'upsert', data: { title: 'fence' } },
      ],
    });
    await eventually(() => expect(evesStream.changes().map((c) => c.id)).toContain('fence'));
    expect(evesStream.changes().map((c) => c.data)).toEqual([
      { title: 'pwned', done: false },
      { title: 'fence', done: false },
    ]);
    evesStream.stop();
  });

  it('maps errors to tRPC codes with the issues list', async () => {
    const bad = await codeOf(
      alice.trpc.sync.push.mutate({
        clientId: 'a1',
        changes: [
          {
            mutationId: 99,
            collection: 'tasks',
            id: 'x',
            op: 'upsert',
            data: { title: 5 as unknown as string },
          },
        ],
      }),
    );
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.sync).toMatchObject({
      code: 'BAD_REQUEST',
      issues: [expect.objectContaining({ path: expect.stringContaining('changes.0.data.title') })],
    });
    const since = await codeOf(alice.trpc.sync.pull.query({ since: 'nope' }));
    expect(since).toMatchObject({ code: 'BAD_REQUEST', sync: { issues: [{ path: 'since' }] } });
  });

  it('refuses every procedure without credentials, the stream included', async () => {
    const anon = server.client(null);
    expect((await codeOf(anon.trpc.sync.push.mutate({ clientId: 'x', changes: [] }))).code).toBe(
      'UNAUTHORIZED',
    );
    expect((await codeOf(anon.trpc.sync.pull.query({}))).code).toBe('UNAUTHORIZED');
    expect((await codeOf(anon.trpc.sync.full.query({}))).code).toBe('UNAUTHORIZED');
    const s = subscribe(anon);
    await eventually(() => expect(s.errors).toHaveLength(1));
    expect((s.errors[0] as { data?: { code?: string } }).data?.code).toBe('UNAUTHORIZED');
  });

  it('streams catch-up then live over WebSocket and resumes after the server drops the socket', async () => {
    const s = subscribe(bob);
    await eventually(() =>
      expect(
        s
          .changes()
          .map((c) => c.id)
          .sort(),
      ).toEqual(['t1', 't2', 't3', 't4']),
    );
    await alice.trpc.sync.push.mutate({ clientId: 'a1', changes: [task('t5', 'live')] });
    await eventually(() => expect(s.changes().map((c) => c.id)).toContain('t5'));
    for (const ws of server.http.trpcWss.clients) ws.terminate();
    await alice.trpc.sync.push.mutate({ clientId: 'a1', changes: [task('t6', 'while away')] });
    await alice.trpc.sync.push.mutate({ clientId: 'a1', changes: [task('t7', 'after')] });
    await eventually(() => expect(s.changes().map((c) => c.id)).toContain('t7'));
    const ids = s.changes().map((c) => c.id);
    expect(ids.sort()).toEqual(['t1', 't2', 't3', 't4', 't5', 't6', 't7']); // no gaps, no duplicates
    const tracked = s.events.filter((e) => e.data.type === 'changes').map((e) => e.id);
    expect(new Set(tracked).size).toBe(tracked.length);
    s.stop();
  });

  it('streams over SSE (httpSubscriptionLink) with the token in connection params', async () => {
    const sse = server.client(await server.token('carol', 'acme'), 'sse');
    const s = subscribe(sse, { collections: ['tasks'] });
    await eventually(() => expect(s.changes().length).toBeGreaterThanOrEqual(7));
    await alice.trpc.sync.push.mutate({ clientId: 'a1', changes: [task('t8', 'sse')] });
    await eventually(() => expect(s.changes().map((c) => c.id)).toContain('t8'));
    expect(s.events.every((e) => typeof e.id === 'string' && e.id.length > 0)).toBe(true);
    s.stop();
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/sync_push_total \d+/);
    expect(text).toContain('sync_stream_connections');
  });
});
