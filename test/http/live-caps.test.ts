// Live-connection caps on every face: live connections per actor and subscriptions per connection answer TOO_MANY_REQUESTS past the limit, and free up when a connection closes.
import { afterEach, describe, expect, it } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { CliError, readConfig } from '../../server/cli/config.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngine } from '../../server/engine/types.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { createMetrics, type SyncMetrics } from '../../server/metrics.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import type { SyncSchema } from '../../shared/schema.js';
import { SECRET, schema, throwawayPostgresStore } from '../rest/harness.js';
import {
  openPeer,
  ssePeer,
  trpcSsePeer,
  trpcWsPeer,
  until,
  wsPeer,
  type LivePeer,
} from '../scale/live-peers.js';

const cases: Array<{ name: string; create: () => Promise<Store> }> = [
  { name: 'pglite', create: async () => pgliteStore() },
];
if (process.env.TEST_DATABASE_URL)
  cases.push({
    name: 'postgres',
    create: async () => throwawayPostgresStore(process.env.TEST_DATABASE_URL!, 'caps'),
  });

async function gauge(metrics: SyncMetrics, face: string): Promise<number> {
  const { values } = await metrics.registry.getSingleMetric('sync_live_subscribers')!.get();
  return values.filter((v) => v.labels.face === face).reduce((n, v) => n + v.value, 0);
}

describe.each(cases)('live-connection caps on $name', ({ create }) => {
  const open: LivePeer[] = [];
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    for (const p of open.splice(0)) p.close();
    await stop?.();
    stop = null;
  });

  async function start() {
    const store = await create();
    await store.init();
    const metrics = createMetrics({ processMetrics: false });
    const engine = createSyncEngine({
      store,
      schema: schema as unknown as SyncSchema,
      limits: { maxLiveConnectionsPerActor: 2, maxSubscriptionsPerConnection: 2 },
      onEvent: metrics.onEvent,
    }) as SyncEngine;
    const sync = createSyncHttpServer({
      engine,
      authenticate: jwtAuthenticator({ secret: SECRET }),
      metrics,
    });
    const { url } = await sync.listen(0, '127.0.0.1');
    stop = async () => {
      await sync.close();
      await engine.close();
      await store.close();
    };
    const alice = await signDevToken(SECRET, { sub: 'alice', expiresIn: '1h' });
    const bob = await signDevToken(SECRET, { sub: 'bob', expiresIn: '1h' });
    const keep = async (p: Promise<LivePeer>) => {
      const peer = await p;
      open.push(peer);
      return peer;
    };
    return { base: url, engine, metrics, alice, bob, keep };
  }

  it('SSE: the connection past limits.maxLiveConnectionsPerActor answers 429 TOO_MANY_REQUESTS; other users are not affected; closing one frees a place', async () => {
    const s = await start();
    const first = await s.keep(ssePeer({ base: s.base, token: s.alice }));
    await s.keep(ssePeer({ base: s.base, token: s.alice }));
    await until(async () => (await gauge(s.metrics, 'sse')) === 2, 5000, 'two live SSE streams');
    const refused = await ssePeer({ base: s.base, token: s.alice }).then(
      () => null,
      (error: { status?: number; body?: string }) => error,
    );
    expect(refused?.status).toBe(429);
    const body = JSON.parse(refused!.body!) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TOO_MANY_REQUESTS');
    expect(body.error.message).toMatch(/maxLiveConnectionsPerActor = 2/);
    await s.keep(ssePeer({ base: s.base, token: s.bob }));
    first.close();
    await until(
      async () => (await gauge(s.metrics, 'sse')) === 2,
      5000,
      'the closed stream released',
    );
    await s.keep(ssePeer({ base: s.base, token: s.alice }));
    expect(await gauge(s.metrics, 'sse')).toBe(3);
  });

  it('raw WebSocket and tRPC SSE past the cap are refused (close 4429; a TOO_MANY_REQUESTS error), counted with the SSE streams of the same user', async () => {
    const s = await start();
    await s.keep(ssePeer({ base: s.base, token: s.alice }));
    await s.keep(wsPeer({ base: s.base, token: s.alice }));
    await until(
      async () => (await gauge(s.metrics, 'ws')) === 1,
      5000,
      'one live WebSocket stream',
    );
    const ws = await s.keep(wsPeer({ base: s.base, token: s.alice }));
    expect((await ws.closed).code).toBe(4429);
    expect(JSON.stringify(ws.errors)).toContain('TOO_MANY_REQUESTS');
    const trpc = await s.keep(trpcSsePeer({ base: s.base, token: s.alice }));
    await until(() => trpc.errors.length > 0 || trpc.isClosed(), 5000, 'tRPC SSE refusal');
    expect(JSON.stringify(trpc.errors)).toContain('TOO_MANY_REQUESTS');
    expect(await gauge(s.metrics, 'trpc')).toBe(0);
  });

  it('tRPC WebSocket: subscriptions past limits.maxSubscriptionsPerConnection are refused; the socket counts as one live connection however many it carries', async () => {
    const s = await start();
    const socket = await s.keep(trpcWsPeer({ base: s.base, token: s.alice, subscriptions: 3 }));
    await until(() => socket.errors.length > 0, 5000, 'the third subscription refused');
    expect(JSON.stringify(socket.errors)).toContain('TOO_MANY_REQUESTS');
    expect(JSON.stringify(socket.errors)).toMatch(/maxSubscriptionsPerConnection = 2/);
    await until(
      async () => (await gauge(s.metrics, 'trpc')) === 2,
      5000,
      'two live tRPC subscriptions',
    );
    // Two subscriptions on one socket are one connection: one more SSE fits, the next does not.
    await s.keep(ssePeer({ base: s.base, token: s.alice }));
    const refused = await ssePeer({ base: s.base, token: s.alice }).then(
      () => null,
      (error: { status?: number }) => error,
    );
    expect(refused?.status).toBe(429);
    // Data still flows on the accepted subscriptions.
    await s.engine.write('alice', [
      { collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'hello' } },
    ]);
    await until(
      () => socket.events.filter((e) => e.type === 'changes').length === 2,
      5000,
      'both subscriptions get the commit',
    );
    socket.close();
    await until(async () => (await gauge(s.metrics, 'trpc')) === 0, 5000, 'the socket released');
    await s.keep(openPeer('trpc-ws', { base: s.base, token: s.alice }));
    await until(async () => (await gauge(s.metrics, 'trpc')) === 1, 5000, 'a new socket fits');
  });
});

describe('CLI: live bounds from the environment', () => {
  it('reads SYNC_MAX_LIVE_CONNECTIONS_PER_ACTOR, SYNC_MAX_SUBSCRIPTIONS_PER_CONNECTION and SYNC_STREAM_MAX_BUFFERED_BYTES, refusing a bad value with one line', () => {
    const config = readConfig(['serve'], {
      SYNC_MAX_LIVE_CONNECTIONS_PER_ACTOR: '4',
      SYNC_MAX_SUBSCRIPTIONS_PER_CONNECTION: '8',
      SYNC_STREAM_MAX_BUFFERED_BYTES: '4_194_304',
    });
    expect(config.limits).toEqual({
      maxLiveConnectionsPerActor: 4,
      maxSubscriptionsPerConnection: 8,
    });
    expect(config.stream).toEqual({ maxBufferedBytes: 4 * 1024 * 1024 });
    expect(readConfig(['serve'], {}).stream).toEqual({});
    expect(() => readConfig(['serve'], { SYNC_STREAM_MAX_BUFFERED_BYTES: '1k' })).toThrow(CliError);
    expect(() => readConfig(['serve'], { SYNC_STREAM_MAX_BUFFERED_BYTES: '100' })).toThrow(
      /at least 1024/,
    );
    expect(() => readConfig(['serve'], { SYNC_MAX_LIVE_CONNECTIONS_PER_ACTOR: '0' })).toThrow(
      /SYNC_MAX_LIVE_CONNECTIONS_PER_ACTOR/,
    );
  });
});
