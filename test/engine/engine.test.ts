/**
 * createSyncEngine's own logic on the memory store (the conformance suites run the same engine on
 * every store): the events it reports, how it stamps a push's changes, expired credentials, server
 * numbering, the rate limit's answer, server-side writes, a stream ended by token expiry, and
 * close() waiting for a scheduled prune.
 */
import { describe, expect, it, vi } from 'vitest';
import { SyncError } from '../../shared/errors.js';
import { HlcClock } from '../../shared/hlc.js';
import type { Actor } from '../../shared/protocol.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { EngineEvent } from '../../server/engine/types.js';
import { memoryStore } from '../../server/stores/memory.js';
import { newActor, testSchema } from '../conformance/fixture.js';

async function setup(options: Partial<Parameters<typeof createSyncEngine>[0]> = {}) {
  const store = memoryStore();
  await store.init();
  const events: EngineEvent[] = [];
  const engine = createSyncEngine({
    store,
    schema: testSchema,
    retention: { pruneIntervalMs: 0 },
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { store, engine, events };
}

async function syncError(p: Promise<unknown> | (() => unknown)): Promise<SyncError> {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => null,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(SyncError);
  return e as SyncError;
}

const up = (mutationId: number, id: string, title: string, hlc?: string) => ({
  mutationId,
  collection: 'tasks',
  id,
  op: 'upsert' as const,
  data: { title },
  ...(hlc ? { hlc } : {}),
});

describe('createSyncEngine', () => {
  it('reports each push with its counts by outcome and the highest seq it committed', async () => {
    const { engine, events } = await setup({
      authorize: ({ change }) => change.id !== 'no',
    });
    const actor = newActor('events');
    await engine.push(actor, {
      clientId: 'd1',
      changes: [up(1, 'a', 'A'), up(2, 'no', 'refused'), up(3, 'b', 'B')],
    });
    // The same push again: duplicates only, nothing committed.
    await engine.push(actor, {
      clientId: 'd1',
      changes: [up(1, 'a', 'A'), up(2, 'no', 'refused'), up(3, 'b', 'B')],
    });
    const pushes = events.filter((e) => e.type === 'push');
    expect(pushes).toHaveLength(2);
    expect(pushes[0]).toMatchObject({
      type: 'push',
      actor,
      changes: 3,
      accepted: 2,
      rejected: 1,
      conflicts: 0,
      duplicates: 0,
    });
    expect(pushes[0]!.seq).toBeGreaterThan(0);
    expect(pushes[1]).toMatchObject({
      changes: 3,
      accepted: 0,
      rejected: 0,
      duplicates: 3,
      seq: null,
    });
    // Not atomic: one transaction per change, the event's seq is the highest of them.
    await engine.push(actor, {
      clientId: 'd2',
      atomic: false,
      changes: [up(1, 'c', 'C'), up(2, 'd', 'D')],
    });
    const last = events.filter((e) => e.type === 'push').at(-1)!;
    expect(last).toMatchObject({ accepted: 2, seq: (await engine.store.head(actor.scopeId)).seq });
    expect(last.type === 'push' && last.ms).toBeGreaterThanOrEqual(0);
  });

  it('reports pull and full with what they returned', async () => {
    const { engine, events } = await setup();
    const actor = newActor('reads');
    await engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A'), up(2, 'b', 'B')] });
    await engine.pull(actor, {});
    await engine.full(actor, {});
    expect(events.find((e) => e.type === 'pull')).toMatchObject({ actor, changes: 2 });
    expect(events.find((e) => e.type === 'full')).toMatchObject({ actor, docs: 2 });
  });

  it('a hook that throws never breaks sync', async () => {
    const { engine } = await setup({
      onEvent: () => {
        throw new Error('metrics down');
      },
    });
    const actor = newActor('hook');
    const res = await engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A')] });
    expect(res.results[0]!.status).toBe('accepted');
  });

  it("stamps with the client's HLC unless it is missing, too far ahead, or not above the same document's previous change in the push", async () => {
    let now = Date.parse('2026-06-01T12:00:00.000Z');
    const { engine, store } = await setup({ clock: { node: 'srv', now: () => now } });
    const client = new HlcClock({ node: 'cli', now: () => now });
    const actor = newActor('stamps');
    const early = client.now();
    // One HLC reused for two edits of the same document: the later edit must win.
    await engine.push(actor, {
      clientId: 'd',
      changes: [up(1, 'a', 'first', early), up(2, 'a', 'second', early), up(3, 'b', 'b', early)],
    });
    const docs = async (...ids: string[]) => {
      const all = await store.scanDocs(actor.scopeId, {
        collections: ['tasks'],
        after: null,
        limit: 100,
      });
      return ids.map((id) => all.find((d) => d.id === id));
    };
    const a = await docs('a', 'b');
    expect(a[0]!.data).toMatchObject({ title: 'second' });
    expect(a[0]!.version > early).toBe(true);
    // Another document keeps the client's own HLC.
    expect(a[1]!.version).toBe(early);
    // A client clock days ahead: the server's clock stamps instead.
    const ahead = new HlcClock({ node: 'fut', now: () => now + 3 * 24 * 3600_000 }).now();
    await engine.push(actor, { clientId: 'd', changes: [up(4, 'c', 'c', ahead)] });
    const [c] = await docs('c');
    expect(c!.version).not.toBe(ahead);
    expect(c!.version < ahead).toBe(true);
    // No HLC: stamped by the server, after what it has seen.
    now += 1000;
    await engine.push(actor, { clientId: 'd', changes: [up(5, 'e', 'e')] });
    const [e] = await docs('e');
    expect(e!.version > early).toBe(true);
    expect(e!.version.endsWith('srv')).toBe(true);
  });

  it('refuses an actor whose credentials expired (at or before now) on every operation, before anything else', async () => {
    const now = 1_800_000_000_000;
    const { engine, events } = await setup({ clock: { now: () => now } });
    const base = newActor('expiry');
    for (const expiresAt of [now, now - 1]) {
      const actor: Actor = { ...base, expiresAt };
      for (const call of [
        () => engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A')] }),
        () => engine.pull(actor, {}),
        () => engine.full(actor, {}),
        () => engine.stream(actor, {}),
      ]) {
        const e = await syncError(call);
        expect(e.code).toBe('UNAUTHORIZED');
        expect(e.message).toBe('token expired');
      }
    }
    expect(events.filter((e) => e.type === 'push' || e.type === 'pull')).toEqual([]);
    const fresh: Actor = { ...base, expiresAt: now + 1 };
    await expect(engine.pull(fresh, {})).resolves.toMatchObject({ changes: [] });
  });

  it('server numbering needs an atomic push', async () => {
    const { engine } = await setup();
    const actor = newActor('numbering');
    const e = await syncError(
      engine.push(
        actor,
        { clientId: 'd', atomic: false, changes: [up(1, 'a', 'A')] },
        { numbering: 'server' },
      ),
    );
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.issues).toEqual([{ path: 'atomic', message: 'must be true' }]);
    const ok = await engine.push(
      actor,
      { clientId: 'd', changes: [up(7, 'a', 'A')] },
      { numbering: 'server' },
    );
    expect(ok.results.map((r) => [r.status, r.mutationId])).toEqual([['accepted', 1]]);
  });

  it('over the rate limit: TOO_MANY_REQUESTS with the wait, and a rate_limited event; other users are not counted', async () => {
    let now = 1_800_000_000_000;
    const { engine, events } = await setup({
      clock: { now: () => now },
      rateLimit: { requests: 2, windowMs: 10_000 },
    });
    const actor = newActor('limit');
    await engine.pull(actor, {});
    await engine.full(actor, {});
    const e = await syncError(engine.pull(actor, {}));
    expect(e.code).toBe('TOO_MANY_REQUESTS');
    expect(e.retryAfterMs).toBe(5000);
    expect(e.message).toBe(
      'rate limit: at most 2 requests per 10000 ms for this user; retry in 5 s',
    );
    expect(events.filter((x) => x.type === 'rate_limited')).toEqual([
      { type: 'rate_limited', actor, op: 'pull', retryAfterMs: 5000 },
    ]);
    await expect(engine.pull(newActor('other'), {})).resolves.toBeDefined();
    now += 5000;
    await expect(engine.pull(actor, {})).resolves.toBeDefined();
  });

  it('write(): server-side changes as the actor "server" of the scope, numbered from 1, validated', async () => {
    const { engine, store } = await setup();
    const scope = newActor('server-writes').scopeId;
    const res = await engine.write(scope, [
      { collection: 'tasks', id: 'x', op: 'upsert', data: { title: 'X' } },
      { collection: 'tasks', id: 'y', op: 'upsert', data: { title: 'Y' } },
      { collection: 'tasks', id: 'x', op: 'delete' },
    ]);
    expect(res.results.map((r) => [r.mutationId, r.status])).toEqual([
      [1, 'accepted'],
      [2, 'accepted'],
      [3, 'accepted'],
    ]);
    const log = await store.readOplog(scope, { afterSeq: 0 });
    expect(log.map((l) => [l.id, l.op, l.actor, l.clientId])).toEqual([
      ['x', 'upsert', 'server', null],
      ['y', 'upsert', 'server', null],
      ['x', 'delete', 'server', null],
    ]);
    // Bad input: nothing written.
    const e = await syncError(
      engine.write(scope, [
        { collection: 'tasks', id: 'z', op: 'upsert', data: { title: 'Z' } },
        { collection: 'tasks', id: 'w', op: 'upsert', data: { title: 3 } as never },
      ]),
    );
    expect(e.code).toBe('BAD_REQUEST');
    expect(await store.readOplog(scope, { afterSeq: 0 })).toHaveLength(3);
  });

  it('a stream opens and closes with events naming its face; an expiring token ends it with UNAUTHORIZED', async () => {
    let now = Date.now();
    const { engine, events } = await setup({ clock: { now: () => now } });
    const actor: Actor = { ...newActor('live'), expiresAt: now + 150 };
    const iterator = engine.stream(actor, {}, undefined, { face: 'test-face' });
    const ended = (async () => {
      try {
        for await (const _ of iterator) void _;
        return null;
      } catch (error) {
        return error;
      }
    })();
    // Time passes for the engine's clock as for the timer.
    const tick = setInterval(() => (now = Date.now()), 10);
    const error = await ended;
    clearInterval(tick);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe('UNAUTHORIZED');
    expect(events.filter((e) => e.type === 'stream_open' || e.type === 'stream_close')).toEqual([
      { type: 'stream_open', actor, face: 'test-face' },
      { type: 'stream_close', actor, face: 'test-face' },
    ]);
  });

  it('a stream closed by its caller before the token expires ends without an error', async () => {
    // A stream on an empty scope says nothing before its first heartbeat: a short one here.
    const { engine, events } = await setup({ stream: { heartbeatMs: 20 } });
    const actor: Actor = { ...newActor('closed'), expiresAt: Date.now() + 60_000 };
    const controller = new AbortController();
    const iterator = engine.stream(actor, {}, controller.signal)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    controller.abort();
    for (;;) if ((await iterator.next()).done) break;
    expect(events.filter((e) => e.type === 'stream_close')).toHaveLength(1);
    expect(events.find((e) => e.type === 'stream_open')).toMatchObject({ face: 'other' });
  });

  it('refreshViews refuses a scope or user that is not a string', async () => {
    const { engine } = await setup();
    await expect(engine.refreshViews({ scopeId: 1 as never, userId: 'u' })).rejects.toThrow(
      'refreshViews: scopeId and userId must be strings',
    );
    await expect(engine.refreshViews({ scopeId: 's', userId: null as never })).rejects.toThrow(
      'refreshViews: scopeId and userId must be strings',
    );
  });

  it('close() stops the scheduled prune and waits for one under way', async () => {
    const store = memoryStore();
    await store.init();
    let release!: () => void;
    let prunes = 0;
    const slow = Object.create(store) as typeof store;
    slow.prune = async (before) => {
      prunes++;
      await new Promise<void>((r) => (release = r));
      return store.prune(before);
    };
    const events: EngineEvent[] = [];
    const engine = createSyncEngine({
      store: slow,
      schema: testSchema,
      retention: { pruneIntervalMs: 20 },
      onEvent: (e) => events.push(e),
    });
    await expect.poll(() => prunes, { timeout: 5000 }).toBe(1);
    // Slower than the interval: not stacked.
    await new Promise((r) => setTimeout(r, 100));
    expect(prunes).toBe(1);
    let closed = false;
    const closing = engine.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(events.filter((e) => e.type === 'prune')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(prunes).toBe(1);
  });
});

describe('createSyncEngine: gates, start-up and lifecycle', () => {
  it('an outdated client is refused with UPGRADE_REQUIRED on every operation, before its credentials are looked at', async () => {
    const now = 1_800_000_000_000;
    const { engine } = await setup({
      schema: Object.assign(Object.create(testSchema), { version: 3 }),
      minSchemaVersion: 2,
      clock: { now: () => now },
    });
    // Expired credentials too: the version is checked first.
    const actor: Actor = { ...newActor('gate'), expiresAt: now - 1 };
    const old = { schemaVersion: 1 };
    for (const call of [
      () => engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A')], ...old }),
      () => engine.pull(actor, old),
      () => engine.full(actor, old),
      () => engine.stream(actor, old),
      () => engine.checkSchemaVersion(1),
    ]) {
      const e = await syncError(call);
      expect(e.code).toBe('UPGRADE_REQUIRED');
      expect(e.minSchemaVersion).toBe(2);
    }
    expect(engine.checkSchemaVersion(2)).toBeUndefined();
    expect(engine.checkSchemaVersion(undefined)).toBeUndefined();
  });

  it('authorizeRead: named collections against authorizeCollection, a view against its rule; nothing named, nothing asked', async () => {
    const asked: string[] = [];
    const { engine } = await setup({
      authorizeCollection: ({ collection, op }) => {
        asked.push(`${op}:${collection}`);
        return collection !== 'notes';
      },
      rules: { mine: { collection: 'tasks', fields: ['title'], where: () => ({ title: 'x' }) } },
    });
    const actor = newActor('read');
    await expect(engine.authorizeRead(actor, 'pull', ['tasks'])).resolves.toBeUndefined();
    expect((await syncError(engine.authorizeRead(actor, 'full', ['notes']))).code).toBe(
      'FORBIDDEN',
    );
    await engine.authorizeRead(actor, 'stream', []);
    await engine.authorizeRead(actor, 'stream', undefined);
    expect(asked).toEqual(['pull:tasks', 'full:notes']);
    await expect(
      engine.authorizeRead(actor, 'pull', undefined, { rule: 'mine' }),
    ).resolves.toBeUndefined();
    const unknown = await syncError(
      engine.authorizeRead(actor, 'pull', undefined, { rule: 'nope' }),
    );
    expect(unknown.code).toBe('BAD_REQUEST');
    const bad = await syncError(
      engine.authorizeRead(actor, 'pull', undefined, { rule: 7 } as never),
    );
    expect(bad.code).toBe('BAD_REQUEST');
    expect(bad.issues[0]!.path).toMatch(/^view/);
  });

  it('rules at start-up: defaultViews must name rules; unindexed rules are warned about once; indexes are made, a failure reported', async () => {
    const rules = {
      mine: { collection: 'tasks', fields: ['title'], where: () => ({ title: 'x' }) },
      loose: { collection: 'notes', where: () => ({}) },
    };
    await expect(setup({ rules, defaultViews: ['mine', 'ghost'] })).rejects.toThrow(
      'createSyncEngine: defaultViews names unknown rule "ghost"',
    );
    // A function is called per request, not checked here.
    await expect(setup({ rules, defaultViews: () => [{ rule: 'ghost' }] })).resolves.toBeDefined();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (message: string) => void warnings.push(message);
    try {
      await setup({ rules });
      await setup({ rules: { mine: rules.mine } });
      await setup({ rules: {} });
    } finally {
      console.warn = warn;
    }
    expect(warnings).toEqual([
      'trpc-offline-sync: rules without declared fields are served unindexed: loose',
    ]);

    const store = memoryStore();
    await store.init();
    const made: unknown[] = [];
    const events: EngineEvent[] = [];
    const failing = Object.create(store) as typeof store;
    failing.ensureIndexes = async (indexes) => {
      made.push(indexes);
      throw new Error('no space for an index');
    };
    createSyncEngine({
      store: failing,
      schema: testSchema,
      rules: { mine: rules.mine },
      retention: { pruneIntervalMs: 0 },
      onEvent: (e) => events.push(e),
    });
    createSyncEngine({
      store: failing,
      schema: testSchema,
      rules: { loose: rules.loose },
      retention: { pruneIntervalMs: 0 },
    });
    await expect.poll(() => events.length).toBe(1);
    expect(made).toEqual([[{ collection: 'tasks', fields: ['title'] }]]);
    expect(events[0]).toMatchObject({ type: 'error', where: 'indexes' });
    expect((events[0] as { error: Error }).error.message).toBe('no space for an index');
  });

  it("slowConsumer and a queue overflow are reported with their reason; feedStatus and verifyChecksums are the feed's and the store's", async () => {
    const { engine, events, store } = await setup({ stream: { maxQueue: 1 } });
    const actor = newActor('slow');
    engine.slowConsumer(actor, 'sse');
    expect(events).toEqual([{ type: 'stream_overflow', actor, face: 'sse', reason: 'buffer' }]);
    expect(engine.feedStatus()).toMatchObject({ subscribers: 0 });
    await engine.write(actor.scopeId, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } },
    ]);
    expect(await engine.verifyChecksums(actor.scopeId)).toMatchObject({
      scope: actor.scopeId,
      mismatches: 0,
      seq: (await store.head(actor.scopeId)).seq,
    });
  });

  it('without a prune interval no prune runs; close() stops the live feed', async () => {
    const store = memoryStore();
    await store.init();
    let prunes = 0;
    const counting = Object.create(store) as typeof store;
    counting.prune = async (before) => (prunes++, store.prune(before));
    const engine = createSyncEngine({
      store: counting,
      schema: testSchema,
      retention: { pruneIntervalMs: 0 },
      stream: { heartbeatMs: 20 },
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(prunes).toBe(0);
    const actor = newActor('closing');
    const controller = new AbortController();
    const iterator = engine.stream(actor, {}, controller.signal)[Symbol.asyncIterator]();
    await iterator.next();
    expect(engine.feedStatus().subscribers).toBe(1);
    await engine.close();
    controller.abort();
    for (;;) if ((await iterator.next()).done) break;
    expect(engine.feedStatus().subscribers).toBe(0);
  });
});

describe('createSyncEngine: live feed errors', () => {
  it('a failed read of the live feed is reported as an error event where "feed"', async () => {
    const store = memoryStore();
    await store.init();
    let failReads = false;
    const flaky = Object.create(store) as typeof store;
    flaky.readOplog = async (scope, options) => {
      if (failReads) throw new Error('oplog read failed');
      return store.readOplog(scope, options);
    };
    const events: EngineEvent[] = [];
    const engine = createSyncEngine({
      store: flaky,
      schema: testSchema,
      retention: { pruneIntervalMs: 0 },
      stream: { heartbeatMs: 20 },
      onEvent: (e) => events.push(e),
    });
    const actor = newActor('feed');
    const controller = new AbortController();
    const iterator = engine.stream(actor, {}, controller.signal)[Symbol.asyncIterator]();
    await iterator.next();
    failReads = true;
    await engine.write(actor.scopeId, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'A' } },
    ]);
    await expect.poll(() => events.filter((e) => e.type === 'error').length).toBeGreaterThan(0);
    const error = events.find((e) => e.type === 'error')!;
    expect(error).toMatchObject({ type: 'error', where: 'feed' });
    expect((error as { error: Error }).error.message).toBe('oplog read failed');
    controller.abort();
    await engine.close();
  });
});

describe('createSyncEngine: what the first tests left', () => {
  it('a scheduled prune that fails is reported where "prune", and the next one still runs', async () => {
    const store = memoryStore();
    await store.init();
    let prunes = 0;
    const failing = Object.create(store) as typeof store;
    failing.prune = async () => {
      prunes++;
      throw new Error('prune failed');
    };
    const events: EngineEvent[] = [];
    const engine = createSyncEngine({
      store: failing,
      schema: testSchema,
      retention: { pruneIntervalMs: 10 },
      onEvent: (e) => events.push(e),
    });
    await expect.poll(() => prunes, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    await engine.close();
    const errors = events.filter((e) => e.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]).toMatchObject({ type: 'error', where: 'prune' });
    expect((errors[0] as { error: Error }).error.message).toBe('prune failed');
  });

  it('a rate limit without a clock option runs on the wall clock; its refusal has no issues', async () => {
    const store = memoryStore();
    await store.init();
    const engine = createSyncEngine({
      store,
      schema: testSchema,
      retention: { pruneIntervalMs: 0 },
      rateLimit: { requests: 1, windowMs: 60_000 },
    });
    const actor = newActor('wall');
    await engine.pull(actor, {});
    const e = await syncError(engine.pull(actor, {}));
    expect(e.code).toBe('TOO_MANY_REQUESTS');
    expect(e.issues).toEqual([]);
    expect(e.retryAfterMs).toBeGreaterThan(50_000);
    await engine.close();
  });

  it("the server's clock moves past a client's HLC, so a later server stamp wins over it", async () => {
    const now = Date.parse('2026-06-01T12:00:00.000Z');
    const { engine, store } = await setup({ clock: { node: 'srv', now: () => now } });
    const ahead = new HlcClock({ node: 'cli', now: () => now + 60_000 }).now();
    const actor = newActor('receive');
    await engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'client', ahead)] });
    await engine.write(actor.scopeId, [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'server' } },
    ]);
    const [doc] = await store.scanDocs(actor.scopeId, {
      collections: ['tasks'],
      after: null,
      limit: 1,
    });
    expect(doc!.data).toMatchObject({ title: 'server' });
    expect(doc!.version > ahead).toBe(true);
  });

  it('a patch with a baseVersion and no resolvers applies (the base is only read for resolvers)', async () => {
    const { engine } = await setup();
    const actor = newActor('base');
    const first = await engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A')] });
    const res = await engine.push(actor, {
      clientId: 'd',
      changes: [
        {
          mutationId: 2,
          collection: 'tasks',
          id: 'a',
          op: 'patch',
          data: { done: true },
          baseVersion: first.results[0]!.version,
        },
      ],
    });
    expect(res.results[0]!.status).toBe('accepted');
  });

  it('atomic: false checks the whole push against the ledger first: a copied device applies none of it', async () => {
    const { engine, store } = await setup();
    const actor = newActor('ledger');
    await engine.push(actor, { clientId: 'dev', atomic: false, changes: [up(5, 'a', 'original')] });
    const head = await store.head(actor.scopeId);
    // A restored backup: a change under an id not recorded, then a different change under one that is.
    const e = await syncError(
      engine.push(actor, {
        clientId: 'dev',
        atomic: false,
        changes: [up(4, 'new', 'new'), up(5, 'a', 'different')],
      }),
    );
    expect(e.code).toBe('CLIENT_ID_CONFLICT');
    expect(await store.head(actor.scopeId)).toEqual(head);
  });

  it("a push's event seq is the highest committed one, also when its last change commits nothing; ms are small", async () => {
    const { engine, events } = await setup({ authorize: ({ change }) => change.id !== 'no' });
    const actor = newActor('seq');
    await engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A')] });
    await engine.push(actor, {
      clientId: 'd',
      atomic: false,
      changes: [up(2, 'b', 'B'), up(3, 'no', 'refused')],
    });
    const last = events.filter((e) => e.type === 'push').at(-1)!;
    expect(last).toMatchObject({
      accepted: 1,
      rejected: 1,
      seq: (await engine.store.head(actor.scopeId)).seq,
    });
    await engine.pull(actor, {});
    await engine.full(actor, {});
    await engine.prune({ before: new Date(0) });
    for (const e of events)
      if ('ms' in e) {
        expect(e.ms).toBeGreaterThanOrEqual(0);
        expect(e.ms).toBeLessThan(60_000);
      }
    expect(events.map((e) => e.type)).toEqual(['push', 'push', 'pull', 'full', 'prune']);
  });

  it('a stream that falls more than maxQueue commits behind is told to resync, and the overflow is reported', async () => {
    const { engine, events } = await setup({ stream: { maxQueue: 1, heartbeatMs: 20 } });
    const actor = newActor('overflow');
    const controller = new AbortController();
    const events$ = engine.stream(actor, {}, controller.signal, { face: 'ws' });
    const iterator = events$[Symbol.asyncIterator]();
    await iterator.next();
    for (let i = 0; i < 4; i++)
      await engine.write(actor.scopeId, [
        { collection: 'tasks', id: `t${i}`, op: 'upsert', data: { title: 'x' } },
      ]);
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const next = await iterator.next();
      if (next.done) break;
      seen.push(next.value.type);
      if (next.value.type === 'resync_required') break;
    }
    expect(seen).toContain('resync_required');
    expect(events.filter((e) => e.type === 'stream_overflow')).toEqual([
      { type: 'stream_overflow', actor, face: 'ws', reason: 'queue' },
    ]);
    controller.abort();
    await iterator.return?.(undefined);
  });

  it('close() ends the live feed of every open stream', async () => {
    const { engine } = await setup({ stream: { heartbeatMs: 20 } });
    const iterator = engine.stream(newActor('end'), {})[Symbol.asyncIterator]();
    await iterator.next();
    expect(engine.feedStatus().subscribers).toBe(1);
    await engine.close();
    expect(engine.feedStatus().subscribers).toBe(0);
    await iterator.return?.(undefined);
  });
});

describe('createSyncEngine: details the event and resolver tests pin down', () => {
  it('event durations are the time the call took (performance.now() after minus before)', async () => {
    let t = 1_000_000;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => (t += 1));
    try {
      const { engine, events } = await setup();
      const actor = newActor('ms');
      await engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A')] });
      await engine.pull(actor, {});
      await engine.full(actor, {});
      await engine.prune({ before: new Date(0) });
      expect(events.map((e) => e.type)).toEqual(['push', 'pull', 'full', 'prune']);
      for (const e of events) {
        const ms = (e as { ms: number }).ms;
        expect(ms).toBeGreaterThan(0);
        expect(ms).toBeLessThan(1000);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('a resolver is given the base version only when the change names one', async () => {
    const bases: unknown[] = [];
    const { engine } = await setup({
      resolvers: {
        tasks: ({ incoming, base }) => {
          bases.push(base);
          return incoming;
        },
      },
    });
    const actor = newActor('resolver');
    const first = await engine.push(actor, { clientId: 'd', changes: [up(1, 'a', 'A')] });
    await engine.push(actor, { clientId: 'd', changes: [up(2, 'a', 'B')] });
    await engine.push(actor, {
      clientId: 'd',
      changes: [{ ...up(3, 'a', 'C'), baseVersion: first.results[0]!.version }],
    });
    expect(bases[0]).toBeUndefined();
    expect(bases[1]).toBeUndefined();
    expect(bases[2]).toMatchObject({ title: 'A' });
  });

  it('CLIENT_ID_CONFLICT on a non-atomic push names the ids recorded as these very changes, across the whole push', async () => {
    const { engine } = await setup();
    const actor = newActor('recorded');
    await engine.push(actor, {
      clientId: 'dev',
      atomic: false,
      changes: [up(1, 'a', 'A'), up(2, 'b', 'B')],
    });
    const e = await syncError(
      engine.push(actor, {
        clientId: 'dev',
        atomic: false,
        changes: [up(1, 'a', 'A'), up(2, 'b', 'other')],
      }),
    );
    expect(e.code).toBe('CLIENT_ID_CONFLICT');
    expect(e.recorded).toEqual([1]);
  });
});

describe('createSyncEngine: a view checksum under the rate limit', () => {
  /** A pull of a 1,100-document view asking for its checksum (two scan pages), with `requests` tokens per hour. */
  async function verifiedPull(requests: number) {
    const now = 1_800_000_000_000;
    const { engine } = await setup({
      clock: { now: () => now },
      rateLimit: { requests, windowMs: 3_600_000 },
      limits: { pullMaxLimit: 2000, pullDefaultLimit: 2000 },
      rules: { all: { collection: 'tasks', fields: ['title'], where: () => ({}) } },
    });
    const actor = newActor('scan');
    for (let i = 0; i < 1100; i += 550)
      await engine.write(
        actor.scopeId,
        Array.from({ length: 550 }, (_, k) => ({
          collection: 'tasks' as const,
          id: `t${String(i + k).padStart(4, '0')}`,
          op: 'upsert' as const,
          data: { title: 'x' },
        })),
      );
    const page = await engine.pull(actor, { view: { rule: 'all' }, verifyView: true });
    expect(page.hasMore).toBe(false);
    expect(page.changes).toHaveLength(1100);
    return page;
  }

  it("each scan page after the first takes a 'full' token: with none left the pull answers without the checksum", async () => {
    // One token for the pull, one for the second scan page: the sum is sent.
    expect((await verifiedPull(2)).checksums?.tasks).toMatch(/^[0-9a-f]{16}$/);
    // Only the pull's token: the scan stops, the page goes without a sum (the client asks again later).
    expect((await verifiedPull(1)).checksums).toBeUndefined();
  });
});
