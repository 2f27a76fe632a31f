/**
 * SYNC_CORS_ORIGINS on the real CLI server: preflights on /trpc and REST paths, headers on answers,
 * refused origins, and a page on another origin in Chromium.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import { parseCorsOrigins } from '../../server/http/cors.js';
import { browserSkipReason, launchChromium } from '../browser/harness.js';
import { cliRefusal, listeningPort, spawnCli, type CliRun } from '../cli-process.js';

const SECRET = 'cors-test-secret-cors-test-secret-cors';
const dir = mkdtempSync(join(tmpdir(), 'sync-cors-'));
/**
 * Two static origins serving one page: the app's (listed in SYNC_CORS_ORIGINS) and another (not
 * listed).
 */
let origins: http.Server[];
let APP: string;
let OTHER: string;
let run: CliRun;
let base: string;
let token: string;

/**
 * Raw request (Node's fetch would not send `Origin` as given); answers status, headers and body.
 */
function request(method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(`${base}${path}`, { method, headers }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

const listen = () =>
  new Promise<http.Server>((resolve) => {
    const s = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'),
    );
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
const originOf = (s: http.Server) => `http://127.0.0.1:${(s.address() as { port: number }).port}`;

beforeAll(async () => {
  origins = await Promise.all([listen(), listen()]);
  [APP, OTHER] = origins.map(originOf) as [string, string];
  run = spawnCli(['serve'], SECRET, {
    SYNC_DATA_DIR: join(dir, 'data'),
    SYNC_CORS_ORIGINS: `${APP}, https://app.example.com`,
    SYNC_LOG: 'silent',
  });
  base = `http://127.0.0.1:${await listeningPort(run)}`;
  token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 600 });
});
afterAll(async () => {
  run?.child.kill('SIGTERM');
  await run?.exited;
  for (const s of origins ?? []) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const preflight = (path: string, origin: string, method = 'POST') =>
  request('OPTIONS', path, {
    origin,
    'access-control-request-method': method,
    'access-control-request-headers': 'authorization, content-type',
  });

describe('SYNC_CORS_ORIGINS', () => {
  it('prints the allowed origins at start', () => {
    expect(run.output()).toContain(`CORS: ${APP}, https://app.example.com`);
  });

  it.each([
    '/trpc/sync.push?batch=1',
    '/trpc/sync.pull,sync.full?batch=1',
    '/sync/push',
    '/sync/pull',
    '/compat/fastapi-offline-sync/sync/push',
  ])('answers the preflight of %s for an allowed origin', async (path) => {
    const res = await preflight(path, APP);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(res.headers['access-control-allow-headers']).toBe('authorization, content-type');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers.vary).toMatch(/Origin/);
  });

  it('gives an origin not in the list no CORS headers (the browser refuses the answer)', async () => {
    const res = await preflight('/trpc/sync.push?batch=1', 'http://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const answer = await request('GET', '/sync/health', { origin: 'http://evil.example' });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("puts the headers on real answers of tRPC and REST, errors included, keeping the face's own Vary", async () => {
    const auth = { origin: APP, authorization: `Bearer ${token}` };
    const trpc = await request(
      'GET',
      `/trpc/sync.pull?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`,
      auth,
    );
    expect(trpc.status).toBe(200);
    expect(trpc.headers['access-control-allow-origin']).toBe(APP);
    const pull = await request('GET', '/sync/pull', { ...auth, 'accept-encoding': 'gzip' });
    expect(pull.status).toBe(200);
    expect(pull.headers['access-control-allow-origin']).toBe(APP);
    expect(pull.headers['access-control-expose-headers']).toMatch(/X-Sync-Checkpoint/);
    const refused = await request('GET', '/sync/pull', { origin: APP });
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
    const full = await request('GET', '/sync/full', { ...auth, 'accept-encoding': 'gzip' });
    expect(String(full.headers.vary)).toMatch(/Accept-Encoding/i);
    expect(String(full.headers.vary)).toMatch(/Origin/);
  });

  it('refuses malformed values with one line', () => {
    expect(cliRefusal({ SYNC_CORS_ORIGINS: 'http://localhost:5173/app' })).toMatch(
      /SYNC_CORS_ORIGINS: expected "\*" or origins .* got "http:\/\/localhost:5173\/app"/,
    );
    expect(cliRefusal({ SYNC_CORS_ORIGINS: '*,http://a.example' })).toMatch(/give it alone/);
    const fail = (m: string) => new Error(m);
    expect(parseCorsOrigins(' * ', fail)).toBe(true);
    expect(parseCorsOrigins('', fail)).toBeUndefined();
    expect(parseCorsOrigins('https://a.example/, http://b.example:8080', fail)).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
  });
});

describe.skipIf(browserSkipReason())('a page on another origin (Chromium)', () => {
  it('calls tRPC and REST with a bearer token; a page on an origin not listed cannot', async () => {
    const browser = await launchChromium();
    try {
      const call = async (origin: string) => {
        const tab = await browser.newPage();
        await tab.goto(origin);
        const result = await tab.evaluate(
          async ({ base, token }) => {
            const headers = {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
            };
            try {
              const push = await fetch(`${base}/trpc/sync.push?batch=1`, {
                method: 'POST',
                headers,
                body: JSON.stringify({
                  0: {
                    json: {
                      clientId: 'web-1',
                      changes: [
                        {
                          mutationId: 1,
                          collection: 'tasks',
                          id: 'cors',
                          op: 'upsert',
                          data: { title: 'from another origin' },
                        },
                      ],
                    },
                  },
                }),
              });
              const pushed = (await push.json()) as [
                { result: { data: { json: { results: { status: string }[] } } } },
              ];
              const pull = await fetch(`${base}/sync/pull`, { headers });
              const pulled = (await pull.json()) as { changes: { id: string }[] };
              return {
                push: pushed[0].result.data.json.results[0]!.status,
                pull: pulled.changes.map((c) => c.id),
              };
            } catch (error) {
              return { error: String(error) };
            }
          },
          { base, token },
        );
        await tab.close();
        return result;
      };
      expect(await call(APP)).toEqual({ push: 'accepted', pull: ['cors'] });
      expect(await call(OTHER)).toEqual({ error: 'TypeError: Failed to fetch' });
    } finally {
      await browser.close();
    }
  });
});
