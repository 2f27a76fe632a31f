/** Operator endpoints: /metrics behind SYNC_METRICS_TOKEN, /sync/status (store reachable, version), /sync/health stays open. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { createMetrics } from '../../server/metrics.js';
import { memoryStore } from '../../server/stores/memory.js';

const SECRET = 'ops-test-secret-ops-test-secret-0123';

async function start(metricsToken?: string) {
  const store = memoryStore();
  await store.init();
  const metrics = createMetrics({ processMetrics: false });
  const engine = createSyncEngine({ store, schema: demoSchema, onEvent: metrics.onEvent });
  const srv = createSyncHttpServer({ engine, authenticate: jwtAuthenticator({ secret: SECRET }), metrics, metricsToken });
  const { url } = await srv.listen(0, '127.0.0.1');
  return { url, store, close: async () => (await srv.close(), await engine.close(), await store.close()) };
}

describe('with SYNC_METRICS_TOKEN', () => {
  let s: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => void (s = await start('m-token-0123456789')));
  afterAll(() => s?.close());

  it('/metrics and /sync/status need the metrics token; a user token is not enough', async () => {
    const user = await signDevToken(SECRET, { sub: 'ann', expiresIn: 60 });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${user}` } })).status).toBe(401);
    expect((await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer m-token-012345678X' } })).status).toBe(401);
    const ok = await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer m-token-0123456789' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/sync_push_total/);
    expect((await fetch(`${s.url}/sync/status`, { headers: { authorization: `Bearer ${user}` } })).status).toBe(401);
    const status = await fetch(`${s.url}/sync/status`, { headers: { authorization: 'Bearer m-token-0123456789' } });
    expect(status.status).toBe(200);
    const body = await status.json();
    expect(body).toMatchObject({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/), store: { reachable: true }, collections: ['notes', 'tasks'] });
    expect((await fetch(`${s.url}/sync/health`)).status).toBe(200);
  });

  it('/sync/status answers 503 when the store is unreachable', async () => {
    const head = s.store.head.bind(s.store);
    s.store.head = async () => {
      throw new Error('connection refused');
    };
    try {
      const res = await fetch(`${s.url}/sync/status`, { headers: { authorization: 'Bearer m-token-0123456789' } });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ ok: false, store: { reachable: false, error: 'connection refused' } });
    } finally {
      s.store.head = head;
    }
  });
});

describe('without a metrics token', () => {
  let s: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => void (s = await start()));
  afterAll(() => s?.close());

  it('/metrics is open, /sync/status needs a valid user token', async () => {
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${s.url}/sync/status`)).status).toBe(401);
    const user = await signDevToken(SECRET, { sub: 'ann', expiresIn: 60 });
    expect((await fetch(`${s.url}/sync/status`, { headers: { authorization: `Bearer ${user}` } })).status).toBe(200);
  });
});
