/** The per-IP limit of the one-port server on every face: unauthenticated requests count, the refusal comes before anything is read, nothing is written. */
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress, normalizeAddress } from '../../server/http/ip-rate-limit.js';
import {
  rest,
  startHostileServer,
  trpc,
  upgrade,
  upsert,
  type Answer,
  type HostileServer,
} from './harness.js';
import { storeCases } from '../rest/harness.js';

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    const LIMIT = { requests: 3, windowMs: 60_000 };
    let s: HostileServer;
    let before: [number, number];
    let ipCounter = 0;
    /** A fresh client address per test (the server trusts one proxy), so every test starts with a full bucket. */
    const freshIp = () => `198.51.100.${++ipCounter}`;

    beforeAll(async () => {
      s = await startHostileServer(
        await storeCase.create(),
        {},
        { ipRateLimit: LIMIT, trustProxy: 1 },
      );
      expect(
        (
          await rest(s.url, '/sync/push', {
            token: s.tokenA,
            body: upsert('tasks', 'seed', { title: 'A' }, 1),
            headers: { 'x-forwarded-for': '203.0.113.250' },
          })
        ).status,
      ).toBe(200);
      before = await s.heads();
    });
    afterAll(() => s.close());

    /** Asserts a per-IP refusal: 429, Retry-After in whole seconds, the usual error body, nothing written. */
    async function limited(a: Answer) {
      expect(a.status, a.text.slice(0, 300)).toBe(429);
      const retryAfter = Number(a.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const code =
        a.json?.error?.code ??
        a.json?.error?.json?.data?.sync?.code ??
        a.json?.[0]?.error?.json?.data?.sync?.code;
      expect(code).toBe('TOO_MANY_REQUESTS');
      expect(await s.heads()).toEqual(before);
    }

    describe('per-IP rate limit (createSyncHttpServer({ ipRateLimit }), CLI SYNC_RATE_LIMIT_IP)', () => {
      it('REST: requests without a token count; the fourth gets 429 with Retry-After, before authentication', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++)
          expect((await rest(s.url, '/sync/pull', { token: null, headers: ip })).status).toBe(401);
        const a = await rest(s.url, '/sync/pull', { token: null, headers: ip });
        await limited(a);
        expect(a.json.error.message).toContain('from this address');
      });
      it('REST: forged tokens count too (token guessing is bounded)', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++)
          expect(
            (await rest(s.url, '/sync/pull', { token: `guess-${i}`, headers: ip })).status,
          ).toBe(401);
        await limited(await rest(s.url, '/sync/pull', { token: 'guess-3', headers: ip }));
      });
      it('REST: a valid push over the limit is refused whole, body unread (connection: close), nothing written', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++) await rest(s.url, '/sync/health', { headers: ip });
        const a = await rest(s.url, '/sync/push', {
          token: s.tokenA,
          body: upsert('tasks', 'over-ip', { title: 'x' }, 2),
          headers: ip,
        });
        await limited(a);
        expect(a.headers.get('connection')).toBe('close');
      });
      it('SSE: GET /sync/stream over the limit is 429', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++) await rest(s.url, '/openapi.json', { headers: ip });
        await limited(
          await rest(s.url, '/sync/stream', {
            token: s.tokenA,
            headers: { ...ip, accept: 'text/event-stream' },
          }),
        );
      });
      it('raw WebSocket: the upgrade over the limit is refused with HTTP 429 and Retry-After before the handshake', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++) await rest(s.url, '/sync/health', { headers: ip });
        const r = await upgrade(`ws://127.0.0.1:${s.port}/sync/stream?token=${s.tokenA}`, ip);
        expect(r.open).toBe(false);
        expect(r.status).toBe(429);
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(JSON.parse(r.body).error.code).toBe('TOO_MANY_REQUESTS');
      });
      it('WebSocket upgrades take tokens too: three opens, the fourth refused', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++)
          expect((await upgrade(`ws://127.0.0.1:${s.port}/sync/stream`, ip)).open).toBe(true);
        expect((await upgrade(`ws://127.0.0.1:${s.port}/sync/stream`, ip)).status).toBe(429);
      });
      it("tRPC over HTTP: TOO_MANY_REQUESTS in tRPC's error shape with data.sync.retryAfterMs and Retry-After", async () => {
        const ip = freshIp();
        const call = (token: string | null) =>
          fetch(`${s.url}/trpc/sync.pull?input=${encodeURIComponent('{"json":{}}')}`, {
            headers: {
              'x-forwarded-for': ip,
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
          });
        for (let i = 0; i < 3; i++) expect((await call(null)).status).toBe(401);
        const res = await call(s.tokenA);
        const a: Answer = {
          status: res.status,
          headers: res.headers,
          text: '',
          json: await res.json(),
        };
        await limited(a);
        const data = a.json.error.json.data;
        expect(data.code).toBe('TOO_MANY_REQUESTS');
        expect(data.httpStatus).toBe(429);
        expect(data.sync.retryAfterMs).toBeGreaterThan(0);
        expect(data.sync.retryAfterMs).toBeLessThanOrEqual(20_000);
      });
      it('tRPC over HTTP: a batch is one request; over the limit every call in it is refused and no push is applied', async () => {
        const ip = freshIp();
        for (let i = 0; i < 3; i++)
          await trpc(s.url, 'pull', {}, null, undefined, { 'x-forwarded-for': ip });
        const body = JSON.stringify({
          0: { json: upsert('tasks', 'ip-b1', { title: 'x' }, 3) },
          1: { json: upsert('tasks', 'ip-b2', { title: 'y' }, 4) },
        });
        const res = await fetch(`${s.url}/trpc/sync.push,sync.push?batch=1`, {
          method: 'POST',
          headers: {
            'x-forwarded-for': ip,
            authorization: `Bearer ${s.tokenA}`,
            'content-type': 'application/json',
          },
          body,
        });
        const json = (await res.json()) as any[];
        expect(res.status).toBe(429);
        expect(json.map((c) => c.error.json.data.sync.code)).toEqual([
          'TOO_MANY_REQUESTS',
          'TOO_MANY_REQUESTS',
        ]);
        expect(res.headers.get('connection')).toBe('close'); // the body was never read
        expect(await s.heads()).toEqual(before);
      });
      it('tRPC over WebSocket: the upgrade over the limit is refused with HTTP 429', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++) await rest(s.url, '/sync/health', { headers: ip });
        const r = await upgrade(`ws://127.0.0.1:${s.port}/trpc?token=${s.tokenA}`, ip);
        expect(r.status).toBe(429);
        expect(JSON.parse(r.body).error.code).toBe('TOO_MANY_REQUESTS');
      });
      it('compat face: 429 with FastAPI detail over HTTP, and its WebSocket upgrade refused', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 3; i++)
          expect(
            (await rest(s.url, '/compat/fastapi-offline-sync/sync/pull', { headers: ip })).status,
          ).toBe(401);
        const a = await rest(s.url, '/compat/fastapi-offline-sync/sync/push', {
          token: s.tokenA,
          body: { client_id: 'c', changes: [] },
          headers: ip,
        });
        await limited(a);
        expect(a.json.detail).toContain('rate limit');
        expect(
          (await upgrade(`ws://127.0.0.1:${s.port}/compat/fastapi-offline-sync/sync/stream`, ip))
            .status,
        ).toBe(429);
      });
      it('buckets are per address: one address over its limit does not slow another', async () => {
        const ip = { 'x-forwarded-for': freshIp() };
        for (let i = 0; i < 4; i++) await rest(s.url, '/sync/health', { headers: ip });
        expect((await rest(s.url, '/sync/health', { headers: ip })).status).toBe(429);
        expect(
          (await rest(s.url, '/sync/health', { headers: { 'x-forwarded-for': freshIp() } })).status,
        ).toBe(200);
      });
      it('with one trusted proxy, entries the client wrote further left in X-Forwarded-For do not make new buckets', async () => {
        const real = freshIp();
        for (let i = 0; i < 3; i++)
          await rest(s.url, '/sync/health', {
            headers: { 'x-forwarded-for': `10.0.0.${i}, ${real}` },
          });
        expect(
          (
            await rest(s.url, '/sync/health', {
              headers: { 'x-forwarded-for': `10.9.9.9, ${real}` },
            })
          ).status,
        ).toBe(429);
      });
      it('an IPv6 /64 is one bucket', async () => {
        for (let i = 1; i <= 3; i++)
          await rest(s.url, '/sync/health', {
            headers: { 'x-forwarded-for': `2001:db8:77:1::${i}` },
          });
        expect(
          (
            await rest(s.url, '/sync/health', {
              headers: { 'x-forwarded-for': '2001:db8:77:1:abcd:ef::9' },
            })
          ).status,
        ).toBe(429);
        expect(
          (
            await rest(s.url, '/sync/health', {
              headers: { 'x-forwarded-for': '2001:db8:77:2::1' },
            })
          ).status,
        ).toBe(200);
      });
      it('counts refusals as sync_rate_limited_total{kind="ip"} by op (request, upgrade)', async () => {
        const text = await s.metrics.text();
        const count = (op: string) =>
          Number(
            new RegExp(`^sync_rate_limited_total\\{op="${op}",kind="ip"\\} (\\d+)`, 'm').exec(
              text,
            )?.[1] ?? 0,
          );
        expect(count('request')).toBeGreaterThanOrEqual(8);
        expect(count('upgrade')).toBeGreaterThanOrEqual(4);
      });
      it('nothing any refused request carried was written', async () => {
        expect(await s.heads()).toEqual(before);
        expect(s.unexpected).toEqual([]);
      });
    });

    describe('per-IP rate limit without a trusted proxy', () => {
      let direct: HostileServer;
      beforeAll(async () => {
        direct = await startHostileServer(
          await storeCase.create(),
          {},
          { ipRateLimit: { requests: 2, windowMs: 60_000 } },
        );
      });
      afterAll(() => direct.close());
      it('ignores X-Forwarded-For: a client cannot pick a fresh bucket by forging it', async () => {
        for (let i = 0; i < 2; i++)
          expect(
            (
              await rest(direct.url, '/sync/health', {
                headers: { 'x-forwarded-for': `192.0.2.${i}` },
              })
            ).status,
          ).toBe(200);
        const a = await rest(direct.url, '/sync/health', {
          headers: { 'x-forwarded-for': '192.0.2.99' },
        });
        expect(a.status).toBe(429);
        expect(a.headers.get('retry-after')).toBe('30');
      });
    });
  });
}

describe('per-IP rate limit options', () => {
  it('refuses a bad ipRateLimit or trustProxy at start-up with a clear message', async () => {
    await expect(
      startHostileServer(undefined, {}, { ipRateLimit: { requests: 0, windowMs: 1000 } }),
    ).rejects.toThrow(/ipRateLimit\.requests: expected a positive integer, got 0/);
    await expect(
      startHostileServer(undefined, {}, { ipRateLimit: { requests: 5, windowMs: 1.5 } }),
    ).rejects.toThrow(/ipRateLimit\.windowMs/);
    await expect(startHostileServer(undefined, {}, { trustProxy: -1 })).rejects.toThrow(
      /trustProxy must be a boolean or a non-negative integer/,
    );
  });
});

describe('client addresses', () => {
  const req = (remoteAddress: string, xff?: string) =>
    ({
      socket: { remoteAddress },
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    }) as unknown as IncomingMessage;
  it('normalizes IPv4, IPv4-mapped IPv6, ports and IPv6 prefixes', () => {
    expect(normalizeAddress('203.0.113.5')).toBe('203.0.113.5');
    expect(normalizeAddress('::ffff:203.0.113.5')).toBe('203.0.113.5');
    expect(normalizeAddress('203.0.113.5:4711')).toBe('203.0.113.5');
    expect(normalizeAddress('[2001:db8::1]:443')).toBe('2001:db8:0:0::/64');
    expect(normalizeAddress('2001:0DB8:0001:0002:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(normalizeAddress('::1')).toBe('0:0:0:0::/64');
    expect(normalizeAddress('not-an-ip')).toBeNull();
    expect(normalizeAddress('')).toBeNull();
  });
  it('reads X-Forwarded-For only when proxies are trusted, from the right', () => {
    expect(clientAddress(req('127.0.0.1', '198.51.100.7'), 0)).toBe('127.0.0.1');
    expect(clientAddress(req('127.0.0.1', '6.6.6.6, 198.51.100.7'), 1)).toBe('198.51.100.7');
    expect(clientAddress(req('127.0.0.1', '198.51.100.7, 10.0.0.2'), 2)).toBe('198.51.100.7');
    expect(clientAddress(req('127.0.0.1', '198.51.100.7'), 3)).toBe('198.51.100.7'); // fewer entries than hops: the leftmost
    expect(clientAddress(req('127.0.0.1', 'garbage'), 1)).toBe('127.0.0.1'); // no address there: the socket's
    expect(clientAddress(req('127.0.0.1'), 1)).toBe('127.0.0.1');
  });
});
