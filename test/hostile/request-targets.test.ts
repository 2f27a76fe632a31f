/** Regressions of issue 15 items 1 and 8 (transport): bad absolute targets on the request, upgrade and metrics listeners, TRACE, malformed Host on REST and compat, 500s with a request id, slow bodies and headers cut by the listener timeouts, and their CLI variables. */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readConfig } from '../../server/cli/config.js';
import { cliRefusal } from '../cli-process.js';
import { createMetricsServer } from '../../server/http/metrics-server.js';
import { hostProblem, parseRequestTarget } from '../../server/http/request-target.js';
import { createMetrics } from '../../server/metrics.js';
import { toNodeHandler } from '../../server/rest/node.js';
import type { UnexpectedError } from '../../server/unexpected.js';
import { startHostileServer, type HostileServer } from './harness.js';
import { storeCases } from '../rest/harness.js';
import { sendRaw } from './raw-socket.js';

const BAD_TARGETS = ['http://[/', 'http://x:99999/', 'https://a@[/'];
const COMPAT = '/compat/fastapi-offline-sync';

/** One raw request (written as given, then half-closed); answers the first status and the whole reply. */
async function raw(
  port: number,
  text: string,
): Promise<{ status: number | undefined; text: string }> {
  const outcome = await sendRaw(port, [Buffer.from(text, 'latin1')], 5000);
  expect(outcome.timedOut, `no answer to ${JSON.stringify(text.slice(0, 60))}`).toBe(false);
  return { status: outcome.statuses[0], text: outcome.text };
}

const get = (target: string, port: number, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}\r\n`;
const upgrade = (target: string, port: number) =>
  get(
    target,
    port,
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`,
  );

/** Resolves with what `socket` received once the server closes it (the test's own timeout is the failure). */
function closed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

describe('parseRequestTarget and hostProblem', () => {
  it('parses origin and absolute forms and answers null for the rest, never throwing', () => {
    expect(parseRequestTarget('/sync/pull?since=1')?.pathname).toBe('/sync/pull');
    expect(parseRequestTarget('//evil.example/x')?.pathname).toBe('//evil.example/x');
    expect(parseRequestTarget('http://127.0.0.1:3000/sync/pull?a=1')?.search).toBe('?a=1');
    for (const t of [
      ...BAD_TARGETS,
      '*',
      'ftp://x/',
      'https://u:p@host/',
      'host:80',
      'sync/pull',
      '',
      'http://',
      'javascript:alert(1)',
    ]) {
      expect(parseRequestTarget(t), t).toBeNull();
    }
  });
  it('refuses a repeated, empty or malformed Host and accepts names, IPv4, IPv6 and ports', () => {
    const req = (rawHeaders: string[]) =>
      ({
        rawHeaders,
        headers: Object.fromEntries([[rawHeaders[0]!.toLowerCase(), rawHeaders[1]]]),
      }) as unknown as http.IncomingMessage;
    for (const ok of ['localhost', 'example.com:443', '127.0.0.1:3000', '[::1]:8080', 'a-b.c'])
      expect(hostProblem(req(['Host', ok])), ok).toBeNull();
    for (const bad of ['[', 'x:99999', 'a b', 'a/b', 'a@b', '%zz', '', '[::1'])
      expect(hostProblem(req(['Host', bad])), bad).not.toBeNull();
    expect(hostProblem(req(['Host', 'a', 'host', 'a']))).toBe('more than one Host header');
  });
});

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('the one-port server answers malformed requests with 4xx and keeps serving', () => {
      let s: HostileServer;
      beforeAll(async () => void (s = await startHostileServer(await storeCase.create())));
      afterAll(() => s.close());

      it.each(BAD_TARGETS)(
        'request listener: GET %s is 400, the server stays up',
        async (target) => {
          const a = await raw(s.port, get(target, s.port));
          expect(a.status).toBe(400);
          expect(a.text).toContain('"code":"BAD_REQUEST"');
          expect((await fetch(`${s.url}/sync/health`)).status).toBe(200);
        },
      );
      it.each(BAD_TARGETS)(
        'upgrade listener: a WebSocket upgrade to %s is 400, the server stays up',
        async (target) => {
          expect((await raw(s.port, upgrade(target, s.port))).status).toBe(400);
          expect((await fetch(`${s.url}/sync/health`)).status).toBe(200);
        },
      );
      it('an absolute target with a good host still reaches its face', async () => {
        expect(
          (await raw(s.port, get(`http://127.0.0.1:${s.port}/sync/health`, s.port))).status,
        ).toBe(200);
        expect(
          (await raw(s.port, upgrade(`http://127.0.0.1:${s.port}/sync/stream`, s.port))).status,
        ).toBe(101);
      });
      it.each(['/sync/pull', '/', '/trpc/sync.pull', `${COMPAT}/sync/pull`, '/openapi.json'])(
        'an unauthenticated TRACE %s is 405, not 500',
        async (path) => {
          const a = await raw(
            s.port,
            `TRACE ${path} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`,
          );
          expect(a.status).toBe(405);
          expect(a.text).toContain('"code":"METHOD_NOT_ALLOWED"');
        },
      );
      it.each(['/sync/pull', `${COMPAT}/sync/pull`, '/trpc/sync.pull'])(
        'a malformed Host on %s is 400 (REST, compat, tRPC)',
        async (path) => {
          for (const host of ['[', 'a b', 'x:99999', '']) {
            const a = await raw(s.port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
            expect(a.status, host).toBe(400);
          }
          const twice = await raw(
            s.port,
            `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n`,
          );
          expect(twice.status).toBe(400);
          expect(s.unexpected).toEqual([]);
        },
      );
      it('a request line the parser refuses is a 400 and a closed connection (clientError)', async () => {
        const a = await raw(s.port, 'get /sync/pull HTTP/1.1\r\nHost: x\r\n\r\n');
        expect(a.status).toBe(400);
      });
    });
  });
}

describe('the metrics listener answers malformed requests with 4xx and keeps serving', () => {
  const metrics = createMetrics({ processMetrics: false });
  const server = createMetricsServer({ metrics });
  let port: number;
  beforeAll(async () => void ({ port } = await server.listen(0, '127.0.0.1')));
  afterAll(() => server.close());

  it.each(BAD_TARGETS)('GET %s is 400, then /metrics still answers', async (target) => {
    expect((await raw(port, get(target, port))).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
  });
  it('TRACE is 405 and a malformed Host 400', async () => {
    expect((await raw(port, `TRACE /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)).status).toBe(
      405,
    );
    expect((await raw(port, `GET /metrics HTTP/1.1\r\nHost: [\r\n\r\n`)).status).toBe(400);
  });
});

describe('a 500 on the metrics listener carries a request id and is reported', () => {
  const reported: UnexpectedError[] = [];
  const metrics = {
    ...createMetrics({ processMetrics: false }),
    text: () => Promise.reject(new Error('collector exploded')),
  };
  const server = createMetricsServer({ metrics, onError: (info) => reported.push(info) });
  let port: number;
  beforeAll(async () => void ({ port } = await server.listen(0, '127.0.0.1')));
  afterAll(() => server.close());

  it('answers 500 with the id onError was told, never the error message', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id');
    const text = await res.text();
    expect(JSON.parse(text).error.requestId).toBe(id);
    expect(text).not.toContain('collector exploded');
    expect(reported.map((r) => [r.requestId, r.op])).toEqual([[id, 'GET /metrics']]);
  });
});

describe('toNodeHandler on its own', () => {
  const reported: UnexpectedError[] = [];
  const server = http.createServer(
    toNodeHandler(
      async (req) => {
        if (new URL(req.url).pathname === '/boom') throw new Error('handler exploded');
        return new Response('ok');
      },
      { onError: (info) => reported.push(info) },
    ),
  );
  let port: number;
  beforeAll(() =>
    new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve())).then(
      () => void (port = (server.address() as net.AddressInfo).port),
    ),
  );
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers a malformed Host, a bad target and TRACE with 4xx', async () => {
    expect((await raw(port, `GET /x HTTP/1.1\r\nHost: [\r\n\r\n`)).status).toBe(400);
    expect((await raw(port, get('http://[/', port))).status).toBe(400);
    expect((await raw(port, `TRACE /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)).status).toBe(405);
    expect(reported).toEqual([]);
  });
  it('answers a failure of the handler with a 500 that carries the request id onError was told', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/boom`);
    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(((await res.json()) as { error: { requestId: string } }).error.requestId).toBe(id);
    expect(reported.map((r) => [r.requestId, r.op, (r.error as Error).message])).toEqual([
      [id, 'GET /boom', 'handler exploded'],
    ]);
  });
});

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('slow clients are cut by the listener timeouts', () => {
      let s: HostileServer;
      const metrics = createMetrics({ processMetrics: false });
      const metricsServer = createMetricsServer({
        metrics,
        requestTimeoutMs: 300,
        headersTimeoutMs: 200,
      });
      let metricsPort: number;
      beforeAll(async () => {
        s = await startHostileServer(
          await storeCase.create(),
          {},
          { requestTimeoutMs: 300, headersTimeoutMs: 200 },
        );
        ({ port: metricsPort } = await metricsServer.listen(0, '127.0.0.1'));
      });
      afterAll(async () => {
        await s.close();
        await metricsServer.close();
      });

      it('a push whose body stops arriving is answered 408 and closed (requestTimeoutMs)', async () => {
        const socket = net.connect(s.port, '127.0.0.1');
        const reply = closed(socket);
        socket.write(
          `POST /sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.tokenA}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"clientId":`,
        );
        const text = await reply;
        expect(text).toMatch(/^HTTP\/1\.1 408 /);
        expect(await s.heads()).toEqual([0, 0]);
      });
      it('headers that stop arriving are answered 408 and closed (headersTimeoutMs), on both listeners', async () => {
        for (const port of [s.port, metricsPort]) {
          const socket = net.connect(port, '127.0.0.1');
          const reply = closed(socket);
          socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
          expect(await reply).toMatch(/^HTTP\/1\.1 408 /);
        }
      });
      it('live streams outlive the timeouts: an SSE stream and a WebSocket each get two heartbeats (1 s apart) after a 300 ms request timeout', async () => {
        const sse = (async () => {
          const res = await fetch(`${s.url}/sync/stream`, {
            headers: { authorization: `Bearer ${s.tokenA}` },
          });
          expect(res.status).toBe(200);
          const reader = res.body!.getReader();
          let text = '';
          while ((text.match(/event: heartbeat/g) ?? []).length < 2) {
            const { done, value } = await reader.read();
            if (done) throw new Error(`SSE stream ended after: ${text}`);
            text += Buffer.from(value).toString();
          }
          await reader.cancel();
        })();
        const ws = new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${s.port}/sync/stream`);
          let beats = 0;
          socket.on('open', () =>
            socket.send(JSON.stringify({ type: 'subscribe', token: s.tokenA })),
          );
          socket.on('message', (d) => {
            if (JSON.parse(d.toString()).type === 'heartbeat' && ++beats === 2) {
              socket.close();
              resolve();
            }
          });
          socket.on('close', (code) =>
            reject(new Error(`WebSocket closed (${code}) after ${beats} heartbeats`)),
          );
          socket.on('error', reject);
        });
        await Promise.all([sse, ws]);
      });
      it('refuses timeouts that are no positive integers, or headers above the request timeout', async () => {
        const { createSyncHttpServer } = await import('../../server/http/server.js');
        const base = { engine: s.engine, authenticate: () => null };
        expect(() => createSyncHttpServer({ ...base, requestTimeoutMs: 0 })).toThrow(
          /requestTimeoutMs must be a whole number/,
        );
        expect(() =>
          createSyncHttpServer({ ...base, requestTimeoutMs: 1000, headersTimeoutMs: 2000 }),
        ).toThrow(/headersTimeoutMs \(2000\) must not exceed requestTimeoutMs \(1000\)/);
        expect(() => createMetricsServer({ metrics, headersTimeoutMs: 1.5 })).toThrow(
          /createMetricsServer: headersTimeoutMs/,
        );
      });
    });
  });
}

describe('readConfig: SYNC_REQUEST_TIMEOUT_MS and SYNC_HEADERS_TIMEOUT_MS', () => {
  const refusal = cliRefusal;
  it('maps both variables and leaves unset ones to the defaults', () => {
    expect(
      readConfig(['serve'], { SYNC_REQUEST_TIMEOUT_MS: '60_000', SYNC_HEADERS_TIMEOUT_MS: '5000' })
        .timeouts,
    ).toEqual({ requestTimeoutMs: 60_000, headersTimeoutMs: 5000 });
    expect(readConfig(['serve'], { SYNC_REQUEST_TIMEOUT_MS: '' }).timeouts).toEqual({});
    expect(readConfig(['serve'], { SYNC_REQUEST_TIMEOUT_MS: '2000' }).timeouts).toEqual({
      requestTimeoutMs: 2000,
    });
  });
  it('refuses a bad value with one line naming the variable', () => {
    expect(refusal({ SYNC_REQUEST_TIMEOUT_MS: '30s' })).toBe(
      'SYNC_REQUEST_TIMEOUT_MS: expected a positive integer of milliseconds, at most 2147483647 (requestTimeoutMs, default 30000), got "30s"',
    );
    expect(refusal({ SYNC_HEADERS_TIMEOUT_MS: '0' })).toMatch(
      /^SYNC_HEADERS_TIMEOUT_MS: expected a positive integer/,
    );
    expect(refusal({ SYNC_REQUEST_TIMEOUT_MS: '5000', SYNC_HEADERS_TIMEOUT_MS: '9000' })).toBe(
      'SYNC_HEADERS_TIMEOUT_MS: headersTimeoutMs (9000) must not exceed requestTimeoutMs (5000)',
    );
  });
});
