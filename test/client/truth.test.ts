/**
 * A status that tells the truth, stuck queues that surface, diagnostics() and syncNow() (issue 20),
 * against a real server on 127.0.0.1 over PGlite and PostgreSQL, with real tRPC links (HTTP batch +
 * WebSocket): the server stopped → `offline` within the documented bound, transitions counted; a
 * silent network path → `offline` by the ping's bound; no request while the platform says offline;
 * a poisoned change dead-lettered while the rest syncs; a refused queue → `stalled`; syncNow().
 */
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  wsLink,
  type TRPCLink,
} from '@trpc/client';
import { initTRPC, TRPCError } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backoffDelay,
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type StatusEvent,
  type SyncApi,
  type SyncClient,
} from '../../client/index.js';
import { serial } from '../../client/serial.js';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer, type SyncHttpServer } from '../../server/http/server.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import type { SyncContext } from '../../server/trpc/app-router.js';
import { syncErrorFormatter } from '../../server/trpc/errors.js';
import { createSyncRouter } from '../../server/trpc/router.js';
import type { PushInput } from '../../shared/protocol.js';
import { throwawayPostgresStore } from '../rest/harness.js';
import { countingApi } from './counting-api.js';
import { eventually } from './harness.js';
import { fakeConnectivity } from './fake-connectivity.js';

const SECRET = 'truth-test-secret-truth-test-secret-truth';

/** What the test server does to pushes: answer 500 for changes whose id starts with `poison`, or 429 for every push. */
const serverFaults = { poison: true, rateLimitPushes: false };

function appRouter(engine: ReturnType<typeof createSyncEngine<typeof demoSchema>>) {
  const t = initTRPC
    .context<SyncContext>()
    .create({ transformer: superjson, errorFormatter: syncErrorFormatter });
  const faulty = t.procedure.use(async ({ path, getRawInput, next }) => {
    if (path === 'sync.push') {
      const input = (await getRawInput()) as PushInput;
      if (serverFaults.rateLimitPushes)
        throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'slow down (test server)' });
      if (serverFaults.poison && input?.changes?.some((c) => c.id.startsWith('poison')))
        throw new TRPCError({
          code: 'INTERNAL_SERVER_ERROR',
          message: 'the server fails on this change (test server)',
        });
    }
    return next();
  });
  return t.router({ sync: createSyncRouter({ engine, procedure: faulty }) });
}
type AppRouter = ReturnType<typeof appRouter>;

/** A link that, while `blackhole`, answers nothing: requests hang and the stream goes silent (a dead network path, no close). */
function blackholeLink(control: { blackhole: boolean }): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        if (control.blackhole && op.type !== 'subscription') return () => undefined;
        const sub = next(op).subscribe({
          next: (value) => void (control.blackhole ? undefined : observer.next(value)),
          error: (error) => void (control.blackhole ? undefined : observer.error(error)),
          complete: () => observer.complete(),
        });
        return () => sub.unsubscribe();
      });
}

/** Status events from now on. */
function record(client: SyncClient<typeof demoSchema>) {
  const seen: (StatusEvent & { atMs: number })[] = [];
  const off = client.on('status', (e) => seen.push({ ...e, atMs: Date.now() }));
  return {
    seen,
    off,
    states: () => transitions(seen.map((e) => e.status)),
    events: () => seen.map((e) => `${e.status}${e.reason ? `:${e.reason.code}` : ''}`),
  };
}

/** The status transitions in a list of status events (an event also comes when only the reason's code changes). */
const transitions = (states: string[]) => states.filter((s, i) => i === 0 || s !== states[i - 1]);

const cases: { name: string; create: () => Promise<Store> }[] = [
  { name: 'pglite', create: async () => pgliteStore() },
];
if (process.env.TEST_DATABASE_URL)
  cases.push({
    name: 'postgres',
    create: async () => throwawayPostgresStore(process.env.TEST_DATABASE_URL!, 'truth'),
  });

describe.each(cases)('the client tells the truth, on $name', ({ create }) => {
  let store: Store;
  let engine: ReturnType<typeof createSyncEngine<typeof demoSchema>>;
  let http: SyncHttpServer;
  let port = 0;
  const cleanups: (() => Promise<unknown>)[] = [];
  const authenticate = jwtAuthenticator({ secret: SECRET });
  const serve = async (at = 0) => {
    http = createSyncHttpServer({ engine, authenticate, router: appRouter(engine) });
    ({ port } = await http.listen(at, '127.0.0.1'));
  };

  beforeAll(async () => {
    store = await create();
    await store.init();
    engine = createSyncEngine({ store, schema: demoSchema, retention: { pruneIntervalMs: 0 } });
    await serve();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await http?.close();
    await engine?.close();
    await store?.close();
  });

  /** The tRPC proxy of a device of `tenant` (HTTP batch + WebSocket, reconnecting with backoff), with its black-hole switch. */
  async function link(tenant: string) {
    const token = await signDevToken(SECRET, { sub: `u-${tenant}`, tenant, expiresIn: '1h' });
    const control = { blackhole: false };
    const wsClient = createWSClient({
      url: `ws://127.0.0.1:${port}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: async () => ({ token }),
      retryDelayMs: (attempt) => backoffDelay(attempt, { retries: 0, baseMs: 100, maxMs: 2000 }),
      lazy: { enabled: true, closeMs: 0 },
    });
    cleanups.push(() => wsClient.close());
    const trpc = createTRPCClient<AppRouter>({
      links: [
        blackholeLink(control),
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: wsClient, transformer: superjson }),
          false: httpBatchLink({
            url: `http://127.0.0.1:${port}/trpc`,
            transformer: superjson,
            headers: { authorization: `Bearer ${token}` },
          }),
        }),
      ],
    });
    return { trpc, control };
  }

  type Options = Partial<Parameters<typeof createSyncClient<typeof demoSchema>>[0]>;
  /** A client on `api` (a memory store unless given), closed after the suite. */
  function client(api: SyncApi, options: Options = {}): SyncClient<typeof demoSchema> {
    const c = createSyncClient({
      api,
      schema: demoSchema,
      store: memoryLocalStore(),
      retry: { retries: 2, baseMs: 50, maxMs: 1000 },
      connectivity: null,
      pushDebounceMs: 10,
      ...options,
    });
    cleanups.push(() => c.close());
    return c;
  }
  const oplogIds = async (scope: string) =>
    (await store.readOplog(scope, { afterSeq: 0 })).map((e) => e.id);

  it('server stopped → offline within the ping bound (at once here: the connection closes), no flapping; restarted → online, the write made meanwhile pushed once', async () => {
    const { trpc } = await link('t-stop');
    const c = client(trpc.sync); // default ping: 5 s of silence + 4 s to answer = 9 s bound
    await c.start();
    await eventually(async () => expect((await c.diagnostics()).live.connection).toBe('connected'));
    expect(c.status()).toBe('online');
    const rec = record(c);
    const stoppedAt = Date.now();
    await http.close();
    await eventually(() => expect(c.status()).toBe('offline'), 10_000);
    const tookMs = rec.seen.find((e) => e.status === 'offline')!.atMs - stoppedAt;
    expect(tookMs).toBeLessThanOrEqual(9_000 + 1_000); // the documented bound, plus scheduling slack
    expect(c.statusDetail().reason?.code).toBe('SERVER_UNREACHABLE');
    await c.collection('tasks').put('while-down', { title: 'written while the server was down' });
    // The push retries with backoff and the socket reconnects; the status holds `offline` meanwhile.
    await eventually(async () => expect((await c.diagnostics()).lastPush?.ok).toBe(false), 5_000);
    expect(rec.states()).toEqual(['offline']);
    expect(c.statusDetail()).toMatchObject({ status: 'offline', pending: 1 });
    await serve(port);
    await eventually(async () => expect(await oplogIds('t-stop')).toEqual(['while-down']), 15_000);
    await eventually(() => expect(c.status()).toBe('online'));
    expect(rec.states()[0]).toBe('offline');
    expect(rec.states().filter((s) => s === 'offline')).toHaveLength(1); // offline once, then back: no flapping
    expect(rec.states().length).toBeLessThanOrEqual(4); // offline, online, [syncing, online] for the push
    console.info(
      `server stopped → offline in ${tookMs} ms; status events while down and back: ${rec.events().join(' → ')}`,
    );
  });

  it('a silent network path (no answer, no close) → offline within intervalMs + timeoutMs of the last sign of life, one transition', async () => {
    const { trpc, control } = await link('t-silent');
    const ping = { intervalMs: 600, timeoutMs: 600 };
    const c = client(trpc.sync, { ping });
    await c.start();
    await eventually(async () => expect((await c.diagnostics()).live.connection).toBe('connected'));
    const rec = record(c);
    const silentAt = Date.now();
    control.blackhole = true;
    await eventually(() => expect(c.status()).toBe('offline'), 5_000);
    const tookMs = rec.seen[0]!.atMs - silentAt;
    expect(tookMs).toBeLessThanOrEqual(ping.intervalMs + ping.timeoutMs + 500);
    expect(c.statusDetail().reason?.message).toMatch(/no answer within 600 ms/);
    expect((await c.diagnostics()).live.pings).toBeGreaterThanOrEqual(1);
    control.blackhole = false;
    await eventually(() => expect(c.status()).toBe('online'), 10_000);
    expect(rec.states()).toEqual(['offline', 'online']);
    console.info(
      `silent path → offline in ${tookMs} ms (bound ${ping.intervalMs + ping.timeoutMs} ms)`,
    );
  });

  it('the platform says offline → not one request (push, pull, subscribe, ping) while writes pile up; back online → pushed at once', async () => {
    const { trpc } = await link('t-platform');
    const counted = countingApi(trpc.sync);
    const connectivity = fakeConnectivity(true);
    const c = client(counted.api, {
      connectivity,
      ping: { intervalMs: 100, timeoutMs: 100 },
      retry: { retries: 5, baseMs: 10, maxMs: 50 },
    });
    await c.start();
    await eventually(async () => expect((await c.diagnostics()).live.connection).toBe('connected'));
    const rec = record(c);
    connectivity.set(false);
    const before = { ...counted.counts };
    for (let i = 0; i < 5; i++)
      await c.collection('tasks').put(`off${i}`, { title: `offline ${i}` });
    await expect(c.sync()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(c.syncNow()).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/offline/),
    });
    // An observation window, not a condition: 20 ping intervals and 30 push backoffs long.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(counted.counts).toEqual(before);
    expect(await c.pending()).toBe(5);
    expect(rec.states()).toEqual(['offline']);
    expect((await c.diagnostics()).reachability.platformOnline).toBe(false);
    connectivity.set(true);
    await eventually(async () => expect(await c.pending()).toBe(0));
    expect((await oplogIds('t-platform')).sort()).toEqual(['off0', 'off1', 'off2', 'off3', 'off4']);
    await eventually(() => expect(c.status()).toBe('online'));
    // offline (no network) → offline (the server has not answered yet) → [syncing →] online: one offline spell.
    expect(rec.states()[0]).toBe('offline');
    expect(rec.states().filter((s) => s === 'offline')).toHaveLength(1);
    expect(rec.events()[0]).toBe('offline:PLATFORM_OFFLINE');
    console.info(`platform offline and back: ${rec.events().join(' → ')}`);
  });

  it('a poisoned change (500 every time) is dead-lettered with its refusal; the changes around it sync; retry (edited) and discard work', async () => {
    const { trpc } = await link('t-poison');
    const c = client(trpc.sync, { deadLetter: { afterAttempts: 3 } });
    const tasks = c.collection('tasks');
    await tasks.put('a1', { title: 'before' });
    await tasks.put('poison1', { title: 'the server fails on me' });
    await tasks.put('a2', { title: 'after' });
    await tasks.put('a3', { title: 'after too' });
    const rec = record(c);
    await c.start();
    await eventually(async () => expect(await c.pending()).toBe(0), 15_000);
    expect((await oplogIds('t-poison')).sort()).toEqual(['a1', 'a2', 'a3']);
    const dead = await c.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      change: { id: 'poison1', op: 'upsert' },
      error: { code: 'INTERNAL' },
      kind: 'request',
    });
    expect(dead[0]!.error.message).toMatch(
      /^failed 3 times in a row, pushed alone, while the server answered other requests: /,
    );
    expect(await c.rejected()).toEqual(dead); // one list
    expect(await tasks.get('poison1')).toBeUndefined(); // the document shows the server state again (none)
    expect(rec.states()).not.toContain('offline'); // the server answered all along
    expect((await c.diagnostics()).deadLetters).toBe(1);

    // Retry with an edit: still refused (the id is poisoned), dead-lettered again; then the server is fixed.
    serverFaults.poison = false;
    const retried = await c.retryDeadLetter(dead[0]!.change.mutationId, {
      data: { title: 'edited, then retried' },
    });
    expect(retried).toBeGreaterThan(dead[0]!.change.mutationId);
    expect(await c.deadLetters()).toEqual([]);
    await eventually(async () => expect(await c.pending()).toBe(0));
    const full = await trpc.sync.full.query({ limit: 100 });
    expect(full.docs.find((d) => d.id === 'poison1')?.data).toMatchObject({
      title: 'edited, then retried',
    });
    serverFaults.poison = true;
    await tasks.put('poison2', { title: 'also bad' });
    await eventually(async () => expect(await c.deadLetters()).toHaveLength(1), 15_000);
    await c.discardDeadLetter((await c.deadLetters())[0]!.change.mutationId);
    expect(await c.deadLetters()).toEqual([]);
    await expect(c.retryDeadLetter(123_456)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('connected, but the server refuses every push with 429: `stalled` after stallAfterMs with the reason; drains → online', async () => {
    const { trpc } = await link('t-stall');
    const c = client(trpc.sync, {
      stallAfterMs: 1_500,
      retry: { retries: 0, baseMs: 100, maxMs: 400 },
    });
    await c.start();
    serverFaults.rateLimitPushes = true;
    try {
      const rec = record(c);
      for (let i = 0; i < 7; i++) await c.collection('tasks').put(`s${i}`, { title: `stuck ${i}` });
      await eventually(() => expect(c.status()).toBe('stalled'), 10_000);
      const detail = c.statusDetail();
      expect(detail.reason).toMatchObject({ code: 'OUTBOX_STALLED' });
      expect(detail.reason!.message).toMatch(
        /^7 pending changes, none acknowledged for \d+ s while connected; last push: TOO_MANY_REQUESTS: slow down/,
      );
      expect(detail.pending).toBe(7);
      expect(detail.oldestPendingAgeMs).toBeGreaterThanOrEqual(1_500);
      const diag = await c.diagnostics();
      expect(diag.lastPush).toMatchObject({ ok: false, error: { code: 'TOO_MANY_REQUESTS' } });
      expect(diag.outbox.size).toBe(7);
      expect(rec.states().filter((s) => s === 'stalled')).toHaveLength(1);
      serverFaults.rateLimitPushes = false;
      await eventually(async () => expect(await c.pending()).toBe(0), 10_000);
      await eventually(() => expect(c.status()).toBe('online'));
      console.info(`429 on every push, then drained: ${rec.events().join(' → ')}`);
      // Retries hold `syncing` (no syncing ↔ online per attempt), then `stalled` once, then online.
      expect(rec.states()[0]).toBe('syncing');
      expect(rec.states().filter((s) => s === 'stalled')).toHaveLength(1);
      expect(rec.states().filter((s) => s === 'online')).toHaveLength(1);
      expect(rec.states().length).toBeLessThanOrEqual(4);
    } finally {
      serverFaults.rateLimitPushes = false;
    }
  });

  it('syncNow(): a write made before the call is acknowledged when it resolves, and a write another device made before the call is local', async () => {
    const a = client((await link('t-now')).trpc.sync, { clientId: 'now-a' });
    const b = client((await link('t-now')).trpc.sync, { clientId: 'now-b' });
    await a.collection('tasks').put('from-a', { title: 'A, not yet pushed' });
    await b.collection('tasks').put('from-b', { title: 'B, pushed before the call' });
    await b.sync();
    expect(await oplogIds('t-now')).toEqual(['from-b']);
    expect(await a.collection('tasks').get('from-b')).toBeUndefined();
    const result = await a.syncNow();
    expect(result.pushed).toBe(1);
    expect((await oplogIds('t-now')).sort()).toEqual(['from-a', 'from-b']);
    expect(await a.collection('tasks').get('from-b')).toMatchObject({
      title: 'B, pushed before the call',
    });
    expect(await a.pending()).toBe(0);

    // Live: a write made just before the call (inside the push debounce) is acknowledged when it resolves.
    await a.start();
    await b.collection('tasks').put('from-b-2', { title: 'B again' });
    await b.syncNow();
    await a.collection('tasks').put('from-a-2', { title: 'A, live' });
    await a.syncNow();
    expect(await oplogIds('t-now')).toContain('from-a-2');
    expect(await a.collection('tasks').get('from-b-2')).toMatchObject({ title: 'B again' });

    const diag = await a.diagnostics();
    expect(diag).toMatchObject({
      status: 'online',
      clientId: 'now-a',
      outbox: { size: 0, oldestAt: null },
      deadLetters: 0,
      tab: { role: 'only', answered: true },
      subscriptions: [],
    });
    expect(diag.checkpoint).toMatch(/^c1\./);
    expect(diag.lastPush).toMatchObject({ ok: true });
    expect(diag.lastPull).toMatchObject({ ok: true });
    expect(diag.live).toMatchObject({ active: true, connection: 'connected' });
    expect(diag.lag).toMatchObject({ changes: 0, seconds: 0 });
  });

  it('syncNow() while the server is unreachable in live mode rejects at once with UNAVAILABLE and sends nothing', async () => {
    const { trpc, control } = await link('t-now-down');
    const counted = countingApi(trpc.sync);
    const c = client(counted.api, { ping: { intervalMs: 300, timeoutMs: 300 } });
    await c.start();
    await eventually(async () => expect((await c.diagnostics()).live.connection).toBe('connected'));
    control.blackhole = true;
    await eventually(() => expect(c.status()).toBe('offline'), 5_000);
    await c.collection('tasks').put('x', { title: 'x' });
    const before = counted.counts.push + counted.counts.pull;
    await expect(c.syncNow()).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/server cannot be reached/),
    });
    expect(counted.counts.push + counted.counts.pull).toBe(before);
    control.blackhole = false;
  });

  it('in a follower tab, syncNow() and diagnostics() are answered by the leader tab', async () => {
    const base = memoryLocalStore();
    const lock = serial();
    const shared: LocalStore = {
      ...base,
      exclusive: (task) => lock(task),
      close: async () => undefined,
    };
    const tabs = {
      name: `truth-${Math.random().toString(36).slice(2)}`,
      heartbeatMs: 40,
      timeoutMs: 200,
      callTimeoutMs: 5_000,
    };
    const first = client((await link('t-tabs')).trpc.sync, { store: shared, tabs });
    const second = client((await link('t-tabs')).trpc.sync, { store: shared, tabs });
    await Promise.all([first.start(), second.start()]);
    await eventually(() => expect([first.leader, second.leader].filter(Boolean)).toHaveLength(1));
    const follower = first.leader ? second : first;
    await follower.collection('tasks').put('tab-write', { title: 'from the follower' });
    await follower.syncNow();
    expect(await oplogIds('t-tabs')).toContain('tab-write');
    const diag = await follower.diagnostics();
    expect(diag.tab).toEqual({ role: 'follower', answered: true });
    expect(diag.live.active).toBe(true); // the leader's live mode
    expect((await (first.leader ? first : second).diagnostics()).tab.role).toBe('leader');
  });
});
