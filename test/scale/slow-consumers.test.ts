// Slow consumers on every live face: peers that stop reading while commits land are told to resync and closed, memory stays bounded, nothing is lost from their last checkpoint.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngine, SyncEngineOptions } from '../../server/engine/types.js';
import { createSyncHttpServer, type SyncHttpServer } from '../../server/http/server.js';
import { createMetrics, type SyncMetrics } from '../../server/metrics.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import type { SyncSchema } from '../../shared/schema.js';
import { SECRET, schema, throwawayPostgresStore } from '../rest/harness.js';
import { compatPeer, openPeer, until, wsPeer, type LivePeer, type PeerFace } from './live-peers.js';

const cases: Array<{ name: string; create: () => Promise<Store> }> = [
  { name: 'pglite', create: async () => pgliteStore() },
];
if (process.env.TEST_DATABASE_URL)
  cases.push({
    name: 'postgres',
    create: async () => throwawayPostgresStore(process.env.TEST_DATABASE_URL!, 'slow'),
  });

interface Fixture {
  base: string;
  engine: SyncEngine;
  sync: SyncHttpServer;
  metrics: SyncMetrics;
  token: string;
  close(): Promise<void>;
}

async function start(
  store: Store,
  stream: SyncEngineOptions['stream'],
  limits?: SyncEngineOptions['limits'],
): Promise<Fixture> {
  await store.init();
  const metrics = createMetrics({ processMetrics: false });
  const engine = createSyncEngine({
    store,
    schema: schema as unknown as SyncSchema,
    stream,
    limits,
    onEvent: metrics.onEvent,
  }) as SyncEngine;
  const sync = createSyncHttpServer({
    engine,
    authenticate: jwtAuthenticator({ secret: SECRET }),
    metrics,
  });
  const { url } = await sync.listen(0, '127.0.0.1');
  const token = await signDevToken(SECRET, { sub: 'alice', expiresIn: '1h' });
  return {
    base: url,
    engine,
    sync,
    metrics,
    token,
    async close() {
      await sync.close();
      await engine.close();
      await store.close();
    },
  };
}

/** Sum of a metric's values whose labels match `labels`. */
async function metric(
  metrics: SyncMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((n, v) => n + v.value, 0);
}

/** Ids of every changed document a peer received. */
function idsOf(peer: LivePeer): Set<string> {
  const ids = new Set<string>();
  for (const e of peer.events) if (e.type === 'changes') for (const c of e.changes) ids.add(c.id);
  return ids;
}

/** Ids of `want` that `peer` has not received (one pass over its events, not one per id). */
function missingFrom(peer: LivePeer, want: Set<string>, seen: Set<string> = new Set()): string[] {
  const have = idsOf(peer);
  return [...want].filter((id) => !seen.has(id) && !have.has(id));
}

/** One commit of `docs` notes of about `bytes` each, ids `c<n>-<k>`. */
function commit(engine: SyncEngine, n: number, docs: number, bytes: number) {
  const body = `${n}:`.padEnd(bytes, 'x');
  return engine.write(
    'alice',
    Array.from({ length: docs }, (_, k) => ({
      collection: 'notes' as const,
      id: `c${n}-${k}`,
      op: 'upsert' as const,
      data: { body },
    })),
  );
}

/** A fresh subscription from `since` reading normally, until `want` ids were all seen (with `seen` already had). */
async function missesNothing(
  f: Fixture,
  since: string | undefined,
  seen: Set<string>,
  want: Set<string>,
): Promise<void> {
  const fresh = await wsPeer({ base: f.base, token: f.token, since });
  try {
    const missing = () => missingFrom(fresh, want, seen);
    await until(
      () => missing().length === 0,
      30_000,
      `catch-up from ${since}: ${missing().length} missing`,
    );
    expect(fresh.events.some((e) => e.type === 'resync_required')).toBe(false);
  } finally {
    fresh.close();
  }
}

/** A peer that keeps reading, in a child process: its ids, event types, and whether it was closed. */
function readerProcess(base: string, token: string) {
  const child = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('./reader-process.mjs', import.meta.url)),
      `${base.replace(/^http/, 'ws')}/sync/stream`,
      token,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ids = new Set<string>();
  const types: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const { type, ids: got } = JSON.parse(line) as { type: string; ids: string[] };
    types.push(type);
    for (const id of got) ids.add(id);
  });
  return { ids, types, stop: () => child.stdin!.end(), kill: () => child.kill() };
}

const memory = () => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
};

describe.each(cases)('slow consumers on $name', ({ create }) => {
  let fixture: Fixture | null = null;
  afterEach(async () => {
    await fixture?.close();
    fixture = null;
  });

  it('tells each peer that stopped reading to resync and closes it, on SSE, raw WebSocket and tRPC (WebSocket and SSE); a fresh subscription from its last checkpoint misses nothing', async () => {
    const bound = 256 * 1024;
    const f = (fixture = await start(
      await create(),
      { maxBufferedBytes: bound, maxQueue: 50, slowConsumerGraceMs: 120_000, heartbeatMs: 60_000 },
      { maxLiveConnectionsPerActor: 64 },
    ));
    const all = new Set<string>();
    await commit(f.engine, 0, 1, 100);
    all.add('c0-0');

    const faces: PeerFace[] = [
      'sse',
      'sse',
      'ws',
      'ws',
      'trpc-ws',
      'trpc-ws',
      'trpc-sse',
      'trpc-sse',
    ];
    const slow = await Promise.all(
      faces.map((face) => openPeer(face, { base: f.base, token: f.token })),
    );
    const reference = readerProcess(f.base, f.token);
    // Every peer is live and has the first commit before any stops reading.
    await until(
      () => slow.every((p) => idsOf(p).has('c0-0')) && reference.ids.has('c0-0'),
      20_000,
      'first commit on every peer',
    );
    expect(await metric(f.metrics, 'sync_live_subscribers', { face: 'sse' })).toBe(2);
    expect(await metric(f.metrics, 'sync_live_subscribers', { face: 'ws' })).toBe(3);
    expect(await metric(f.metrics, 'sync_live_subscribers', { face: 'trpc' })).toBe(4);
    const checkpoints = slow.map((p) => p.lastCheckpoint());
    for (const p of slow) p.pause();

    // Commits of 20 documents of 2 KB (one ~45 KB event each) until every slow peer was counted.
    const before = memory();
    let peak = before;
    let n = 1;
    for (; n <= 600 && (await metric(f.metrics, 'sync_slow_consumers_total')) < slow.length; n++) {
      await commit(f.engine, n, 20, 2000);
      for (let k = 0; k < 20; k++) all.add(`c${n}-${k}`);
      // The peers live in this process: let its event loop read their sockets between commits.
      await new Promise((r) => setTimeout(r, 2));
      if (n % 20 === 0) {
        const now = memory();
        peak = { heap: Math.max(peak.heap, now.heap), rss: Math.max(peak.rss, now.rss) };
      }
    }
    await until(
      async () => (await metric(f.metrics, 'sync_slow_consumers_total')) === slow.length,
      20_000,
      'every slow peer counted',
    ).catch(async (error) => {
      throw new Error(
        `${(error as Error).message} after ${n - 1} commits: ${JSON.stringify((await f.metrics.registry.getSingleMetric('sync_slow_consumers_total')!.get()).values)}`,
      );
    });
    console.log(
      `slow consumers: all ${slow.length} counted after ${n - 1} commits (~${Math.round(((n - 1) * 45) / 1024)} MB each); heap +${Math.round((peak.heap - before.heap) / 2 ** 20)} MB, rss +${Math.round((peak.rss - before.rss) / 2 ** 20)} MB`,
    );
    expect(await metric(f.metrics, 'sync_slow_consumers_total', { face: 'sse' })).toBe(2);
    expect(await metric(f.metrics, 'sync_slow_consumers_total', { face: 'ws' })).toBe(2);
    expect(await metric(f.metrics, 'sync_slow_consumers_total', { face: 'trpc' })).toBe(4);
    expect(
      await metric(f.metrics, 'sync_slow_consumers_total', { face: 'sse', reason: 'buffer' }),
    ).toBe(2);
    // What the server holds for a tRPC WebSocket it gave up on: the bound, the last frames, the resync.
    for (const client of f.sync.trpcWss.clients)
      expect(client.bufferedAmount).toBeLessThan(bound + 4 * 50_000);
    // Loose: without the bound each slow tRPC peer alone would hold every commit (tens of MB).
    expect(peak.heap - before.heap).toBeLessThan(150 * 2 ** 20);

    // The reference peer kept reading: it has everything and was never told to resync.
    await until(
      () => [...all].every((id) => reference.ids.has(id)),
      20_000,
      'reference peer has every commit',
    ).catch((error) => {
      throw new Error(
        `${(error as Error).message}: ${reference.types.slice(-3).join(',')}, missing ${[...all].filter((id) => !reference.ids.has(id)).length}`,
      );
    });
    expect(reference.types).not.toContain('resync_required');

    // Reading again: each slow peer takes what was held for it, ending with resync_required, then the close.
    for (const p of slow) p.resume();
    await Promise.all(slow.map((p) => p.closed));
    for (const p of slow) {
      if (p.face === 'trpc-sse') continue; // tRPC's SSE waits for the peer itself: it is cut (no frame can follow a stalled write)
      expect(p.events.at(-1)?.type, `${p.face} ends with resync_required`).toBe('resync_required');
      if (p.face === 'ws' || p.face === 'trpc-ws')
        expect((await p.closed).code, `${p.face} close code`).toBe(4409);
    }
    reference.stop();

    // From where each slow peer stopped, a fresh subscription misses nothing.
    for (const [i, p] of slow.entries()) {
      const since = p.lastCheckpoint() ?? checkpoints[i];
      await missesNothing(f, since, idsOf(p), all);
    }
    await until(
      async () => (await metric(f.metrics, 'sync_live_subscribers')) === 0,
      10_000,
      'no live subscriber left',
    );
  }, 180_000);

  it('does not trip a reading peer on frames larger than the bound, nor a peer catching up on more history than the bound', async () => {
    const f = (fixture = await start(await create(), {
      maxBufferedBytes: 64 * 1024,
      heartbeatMs: 60_000,
    }));
    const reader = readerProcess(f.base, f.token);
    await until(
      async () => (await metric(f.metrics, 'sync_live_subscribers', { face: 'ws' })) === 1,
      10_000,
      'reader live',
    );
    const all = new Set<string>();
    // 40 commits of 100 documents of 2 KB: each event (~220 KB) is over three times the bound, the
    // history (~9 MB) some 140 times it.
    for (let n = 0; n < 40; n++) {
      await commit(f.engine, n, 100, 2000);
      for (let k = 0; k < 100; k++) all.add(`c${n}-${k}`);
    }
    await until(
      () => [...all].every((id) => reader.ids.has(id)),
      30_000,
      'reader has every commit',
    );
    expect(reader.types).not.toContain('resync_required');
    // Catching up on all of it from the start, on every face, is paced, never cut.
    const late = await Promise.all(
      (['sse', 'ws', 'trpc-ws', 'trpc-sse'] as const).map((face) =>
        openPeer(face, { base: f.base, token: f.token }),
      ),
    );
    const t0 = Date.now();
    await until(
      () => late.every((p) => missingFrom(p, all).length === 0),
      60_000,
      'every late peer caught up',
    ).catch((error) => {
      const behind = late.map(
        (p) =>
          `${p.face}: ${missingFrom(p, all).length} missing, last ${p.events.at(-1)?.type ?? 'none'}`,
      );
      throw new Error(`${(error as Error).message} (${behind.join('; ')})`);
    });
    console.log(`slow consumers: 4 late peers caught up on ~9 MB each in ${Date.now() - t0} ms`);
    for (const p of late)
      expect(
        p.events.map((e) => e.type),
        p.face,
      ).not.toContain('resync_required');
    expect(await metric(f.metrics, 'sync_slow_consumers_total')).toBe(0);
    for (const p of late) p.close();
    reader.stop();
  }, 180_000);

  it('cuts a slow consumer that still does not read after stream.slowConsumerGraceMs: the server holds nothing for it any more', async () => {
    const f = (fixture = await start(await create(), {
      maxBufferedBytes: 64 * 1024,
      maxQueue: 50,
      slowConsumerGraceMs: 300,
      heartbeatMs: 60_000,
    }));
    await commit(f.engine, 0, 1, 100);
    const peers = await Promise.all(
      (['sse', 'ws', 'trpc-ws', 'trpc-sse'] as const).map((face) =>
        openPeer(face, { base: f.base, token: f.token }),
      ),
    );
    await until(
      () => peers.every((p) => idsOf(p).has('c0-0')),
      20_000,
      'first commit on every peer',
    );
    // The fastapi-offline-sync face's WebSocket follows the same bounds.
    peers.push(
      await compatPeer({ base: f.base, token: f.token, since: peers[0]!.lastCheckpoint() }),
    );
    await until(
      async () => (await metric(f.metrics, 'sync_live_subscribers', { face: 'compat' })) === 1,
      10_000,
      'compat peer live',
    );
    for (const p of peers) p.pause();
    for (
      let n = 1;
      n <= 600 && (await metric(f.metrics, 'sync_slow_consumers_total')) < peers.length;
      n++
    ) {
      await commit(f.engine, n, 20, 2000);
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(
      async () => (await metric(f.metrics, 'sync_slow_consumers_total')) === peers.length,
      20_000,
      'every slow peer counted',
    );
    const connections = () =>
      new Promise<number>((resolve, reject) =>
        f.sync.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
      );
    expect(await metric(f.metrics, 'sync_slow_consumers_total', { face: 'compat' })).toBe(1);
    await until(async () => (await connections()) === 0, 10_000, 'every slow connection cut');
    expect(await metric(f.metrics, 'sync_live_subscribers')).toBe(0);
    for (const p of peers) p.resume();
    await Promise.all(peers.map((p) => p.closed));
  }, 120_000);

  it('reported case: 20 SSE peers that never read while 3,000 commits of 2 KB land, default bounds: each is told to resync and closed', async () => {
    const f = (fixture = await start(
      await create(),
      { slowConsumerGraceMs: 180_000, heartbeatMs: 60_000 },
      { maxLiveConnectionsPerActor: 32 },
    ));
    const peers = await Promise.all(
      Array.from({ length: 20 }, () => openPeer('sse', { base: f.base, token: f.token })),
    );
    await until(
      async () => (await metric(f.metrics, 'sync_live_subscribers', { face: 'sse' })) === 20,
      10_000,
      '20 live SSE peers',
    );
    await commit(f.engine, 0, 1, 2000);
    await until(
      () => peers.every((p) => idsOf(p).has('c0-0')),
      20_000,
      'first commit on every peer',
    );
    for (const p of peers) p.pause();
    const before = memory();
    let peak = before;
    for (let n = 1; n < 3000; n++) {
      await commit(f.engine, n, 1, 2000);
      if (n % 100 === 0) {
        const now = memory();
        peak = { heap: Math.max(peak.heap, now.heap), rss: Math.max(peak.rss, now.rss) };
      }
    }
    await until(
      async () => (await metric(f.metrics, 'sync_slow_consumers_total', { face: 'sse' })) === 20,
      20_000,
      '20 slow SSE peers counted',
    );
    console.log(
      `reported case: heap +${Math.round((peak.heap - before.heap) / 2 ** 20)} MB, rss +${Math.round((peak.rss - before.rss) / 2 ** 20)} MB over 3,000 commits to 20 stalled SSE peers`,
    );
    expect(peak.heap - before.heap).toBeLessThan(200 * 2 ** 20);
    for (const p of peers) p.resume();
    await Promise.all(peers.map((p) => p.closed));
    for (const p of peers) expect(p.events.at(-1)?.type).toBe('resync_required');
    const all = new Set(Array.from({ length: 3000 }, (_, n) => `c${n}-0`));
    await missesNothing(f, peers[0]!.lastCheckpoint(), idsOf(peers[0]!), all);
  }, 240_000);
});
