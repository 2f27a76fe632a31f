/** Operator endpoints (server on PGlite and PostgreSQL): /metrics behind SYNC_METRICS_TOKEN, /sync/status (store, oplog, live feed lag, versions), /sync/health stays open; auth-failure and batch-size metrics. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { syncStatus } from '../../server/http/ops.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { createMetrics } from '../../server/metrics.js';
import { storeCases, type StoreCase } from '../rest/harness.js';

const SECRET = 'ops-test-secret-ops-test-secret-0123';

async function start(storeCase: StoreCase, metricsToken?: string) {
  const store = await storeCase.create();
  const metrics = createMetrics({ processMetrics: false, store, feed: () => engine.feedStatus() });
  const engine = createSyncEngine({ store, schema: demoSchema, onEvent: metrics.onEvent });
  const srv = createSyncHttpServer({
    engine,
    authenticate: jwtAuthenticator({ secret: SECRET }),
    metrics,
    metricsToken,
  });
  const { url } = await srv.listen(0, '127.0.0.1');
  return {
    url,
    store,
    engine,
    close: async () => (await srv.close(), await engine.close(), await store.close()),
  };
}

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('with SYNC_METRICS_TOKEN', () => {
      let s: Awaited<ReturnType<typeof start>>;
      beforeAll(async () => void (s = await start(storeCase, 'm-token-0123456789')));
      afterAll(() => s?.close());

      it('/metrics and /sync/status need the metrics token; a user token is not enough', async () => {
        const user = await signDevToken(SECRET, { sub: 'ann', expiresIn: 60 });
        expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
        expect(
          (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${user}` } }))
            .status,
        ).toBe(401);
        expect(
          (
            await fetch(`${s.url}/metrics`, {
              headers: { authorization: 'Bearer m-token-012345678X' },
            })
          ).status,
        ).toBe(401);
        const ok = await fetch(`${s.url}/metrics`, {
          headers: { authorization: 'Bearer m-token-0123456789' },
        });
        expect(ok.status).toBe(200);
        expect(await ok.text()).toMatch(/sync_push_total/);
        expect(
          (await fetch(`${s.url}/sync/status`, { headers: { authorization: `Bearer ${user}` } }))
            .status,
        ).toBe(401);
        const status = await fetch(`${s.url}/sync/status`, {
          headers: { authorization: 'Bearer m-token-0123456789' },
        });
        expect(status.status).toBe(200);
        const body = await status.json();
        expect(body).toMatchObject({
          ok: true,
          version: expect.stringMatching(/^\d+\.\d+\.\d+/),
          store: { reachable: true },
          collections: ['notes', 'tasks'],
        });
        expect((await fetch(`${s.url}/sync/health`)).status).toBe(200);
      });

      it('/sync/status answers 503 when the store is unreachable', async () => {
        const head = s.store.head.bind(s.store);
        s.store.head = async () => {
          throw new Error('connection refused');
        };
        try {
          const res = await fetch(`${s.url}/sync/status`, {
            headers: { authorization: 'Bearer m-token-0123456789' },
          });
          expect(res.status).toBe(503);
          expect(await res.json()).toMatchObject({
            ok: false,
            store: { reachable: false, error: 'connection refused' },
          });
        } finally {
          s.store.head = head;
        }
      });
    });

    describe('without a metrics token', () => {
      let s: Awaited<ReturnType<typeof start>>;
      beforeAll(async () => void (s = await start(storeCase)));
      afterAll(() => s?.close());

      it('/metrics is open, /sync/status needs a valid user token', async () => {
        expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
        expect((await fetch(`${s.url}/sync/status`)).status).toBe(401);
        const user = await signDevToken(SECRET, { sub: 'ann', expiresIn: 60 });
        expect(
          (await fetch(`${s.url}/sync/status`, { headers: { authorization: `Bearer ${user}` } }))
            .status,
        ).toBe(200);
      });
    });

    /** One metric sample's value from Prometheus text (`name{labels} value`), or undefined. */
    function sample(text: string, name: string, labels = ''): number | undefined {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    }

    describe('/sync/status fields and the ops metrics', () => {
      let s: Awaited<ReturnType<typeof start>>;
      const auth = { authorization: 'Bearer m-token-0123456789' };
      beforeAll(async () => void (s = await start(storeCase, 'm-token-0123456789')));
      afterAll(() => s?.close());
      const status = async () => (await fetch(`${s.url}/sync/status`, { headers: auth })).json();
      const metricsText = async () => (await fetch(`${s.url}/metrics`, { headers: auth })).text();

      it('reports the oplog size and horizon, the schema version, the package version and the store', async () => {
        const empty = await status();
        expect(empty).toMatchObject({
          ok: true,
          store: { kind: s.store.kind, reachable: true },
          schemaVersion: null,
          oplog: {
            entries: 0,
            estimated: false,
            oldestAt: null,
            newestAt: null,
            oldestAgeSec: null,
          },
        });
        const token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 60 });
        const pushed = await fetch(`${s.url}/sync/push`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            clientId: 'c1',
            changes: [1, 2, 3].map((n) => ({
              mutationId: n,
              collection: 'tasks',
              id: `t${n}`,
              op: 'upsert',
              data: { title: `t${n}` },
            })),
          }),
        });
        expect(pushed.status).toBe(200);
        const body = await status();
        expect(body.oplog).toMatchObject({
          entries: 3,
          estimated: false,
          oldestAgeSec: expect.any(Number),
        });
        expect(Date.parse(body.oplog.oldestAt)).toBeLessThanOrEqual(
          Date.parse(body.oplog.newestAt),
        );
        expect(Date.now() - Date.parse(body.oplog.newestAt)).toBeLessThan(60_000);
        expect(body.version).toBe(
          JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
        );

        const text = await metricsText();
        expect(sample(text, 'sync_oplog_entries')).toBe(3);
        expect(sample(text, 'sync_oplog_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
        expect(sample(text, 'sync_push_batch_size_count')).toBe(1);
        expect(sample(text, 'sync_push_batch_size_sum')).toBe(3);
        expect(sample(text, 'sync_push_batch_size_bucket', 'le="2"')).toBe(0);
        expect(sample(text, 'sync_push_batch_size_bucket', 'le="5"')).toBe(1);
        await fetch(`${s.url}/sync/pull`, { headers: { authorization: `Bearer ${token}` } });
        expect(sample(await metricsText(), 'sync_pull_page_size_sum')).toBe(3);
      });

      it('shows live subscribers and how far the feed trails the commits it knows of', async () => {
        const actor = { userId: 'bob', scopeId: 'lag' };
        const controller = new AbortController();
        const events: unknown[] = [];
        const reading = (async () => {
          for await (const event of s.engine.stream(actor, {}, controller.signal))
            events.push(event);
        })().catch(() => undefined);
        try {
          await expect
            .poll(async () => (await status()).live.subscribers, { timeout: 15_000 })
            .toBe(1);
          await s.engine.write('lag', [
            { collection: 'tasks', id: 'x1', op: 'upsert', data: { title: 'a' } },
          ]);
          await expect
            .poll(() => events.some((e) => (e as { type: string }).type === 'changes'), {
              timeout: 5000,
            })
            .toBe(true);
          const caughtUp = await status();
          expect(caughtUp.live).toMatchObject({
            scopes: 1,
            subscribers: 1,
            behindCommits: 0,
            lagMs: 0,
          });
          expect(sample(await metricsText(), 'sync_live_feed_lag_seconds')).toBe(0);
          expect(Date.parse(caughtUp.live.lastDeliveryAt)).toBeGreaterThan(Date.now() - 60_000);

          // A feed that cannot read (the store's oplog hangs) falls behind, and the status says by how much.
          const readOplog = s.store.readOplog.bind(s.store);
          s.store.readOplog = () => new Promise(() => {});
          try {
            await s.engine.write('lag', [
              { collection: 'tasks', id: 'x2', op: 'upsert', data: { title: 'b' } },
            ]);
            await s.engine.write('lag', [
              { collection: 'tasks', id: 'x3', op: 'upsert', data: { title: 'c' } },
            ]);
            await expect
              .poll(async () => (await status()).live.lagMs, { timeout: 15_000 })
              .toBeGreaterThanOrEqual(100);
            const behind = (await status()).live;
            expect(behind.behindCommits).toBe(2);
            expect(behind.lagMs).toBeGreaterThanOrEqual(100);
            const text = await metricsText();
            expect(sample(text, 'sync_live_feed_behind_commits')).toBe(2);
            expect(sample(text, 'sync_live_feed_lag_seconds')).toBeGreaterThanOrEqual(0.1);
          } finally {
            s.store.readOplog = readOplog;
          }
        } finally {
          controller.abort();
          await reading;
        }
      });

      it('counts refused credentials once per request, by reason, on every face', async () => {
        const before = await metricsText();
        const count = (text: string, reason: string) =>
          sample(text, 'sync_auth_failures_total', `reason="${reason}"`) ?? 0;
        const expired = await signDevToken(SECRET, { sub: 'ann', expiresIn: -10 });
        const forged = await signDevToken('another-secret-another-secret-0123', {
          sub: 'ann',
          expiresIn: 60,
        });
        expect((await fetch(`${s.url}/sync/pull`)).status).toBe(401);
        expect(
          (await fetch(`${s.url}/sync/pull`, { headers: { authorization: `Bearer ${expired}` } }))
            .status,
        ).toBe(401);
        expect(
          (await fetch(`${s.url}/sync/pull`, { headers: { authorization: `Bearer ${forged}` } }))
            .status,
        ).toBe(401);
        expect(
          (await fetch(`${s.url}/sync/pull`, { headers: { authorization: 'Bearer not-a-jwt' } }))
            .status,
        ).toBe(401);
        expect(
          (
            await fetch(
              `${s.url}/trpc/sync.pull?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`,
              { headers: { authorization: `Bearer ${expired}` } },
            )
          ).status,
        ).toBe(401);
        const ok = await signDevToken(SECRET, { sub: 'ann', expiresIn: 60 });
        expect(
          (await fetch(`${s.url}/sync/pull`, { headers: { authorization: `Bearer ${ok}` } }))
            .status,
        ).toBe(200);
        const after = await metricsText();
        expect(count(after, 'missing') - count(before, 'missing')).toBe(1);
        expect(count(after, 'expired') - count(before, 'expired')).toBe(2);
        expect(count(after, 'invalid') - count(before, 'invalid')).toBe(2);
        expect(count(after, 'error') - count(before, 'error')).toBe(0);
      });

      it('answers 503 with a reason when the store does not answer within the status timeout', async () => {
        const head = s.store.head.bind(s.store);
        s.store.head = () => new Promise(() => {});
        try {
          // The answer itself proves the 150 ms timeout fired (the store never answers); no wall-clock budget.
          const { status: code, body } = await syncStatus(s.engine, 150);
          expect(code).toBe(503);
          expect(body).toMatchObject({
            ok: false,
            store: { reachable: false, error: 'store: no answer within 150 ms' },
            oplog: { entries: expect.any(Number) },
          });
        } finally {
          s.store.head = head;
        }
      });
    });
  });
}
