/** The real CLI with SYNC_METRICS_PORT: /metrics on its own 127.0.0.1 listener (token-protected when set), not on the main port; embedded-store RSS after start. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';

const SECRET = 'metrics-port-secret-metrics-port-01';
const dir = mkdtempSync(join(tmpdir(), 'sync-metrics-port-'));

interface Served {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  url: string;
  metricsUrl: string | null;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      SYNC_JWT_SECRET: SECRET,
      SYNC_DATA_DIR: join(dir, `data-${Math.random().toString(36).slice(2)}`),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const main = /listening on (http:\/\/127\.0\.0\.1:\d+) /.exec(out);
    if (main) {
      const metrics = /metrics: (http:\/\/[\d.]+:\d+)\/metrics/.exec(out);
      return {
        child,
        output: () => out,
        exited,
        url: main[1]!,
        metricsUrl: metrics ? metrics[1]! : null,
      };
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`CLI did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(s: Served | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  s.child.kill('SIGTERM');
  await s.exited;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SYNC_METRICS_PORT', () => {
  let s: Served;
  beforeAll(
    async () =>
      void (s = await serve({
        SYNC_METRICS_PORT: '0',
        SYNC_METRICS_TOKEN: 'scrape-token-0123456789',
      })),
    120_000,
  );
  afterAll(() => stop(s), 30_000);

  it('serves /metrics on its own 127.0.0.1 port, behind the metrics token, and no longer on the main port', async () => {
    expect(s.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.metricsUrl).not.toBe(s.url);
    expect((await fetch(`${s.metricsUrl}/metrics`)).status).toBe(401);
    const token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 60 });
    expect(
      (await fetch(`${s.url}/sync/pull`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    expect(
      (await fetch(`${s.url}/sync/pull`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    const res = await fetch(`${s.metricsUrl}/metrics`, {
      headers: { authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^sync_pull_total 1$/m);
    expect(text).toMatch(/^sync_oplog_entries 0$/m);
    expect(text).toMatch(/^sync_auth_failures_total\{reason="invalid"\} 1$/m);
    expect(text).toMatch(/^sync_process_resident_memory_bytes \d+/m);
    const main = await fetch(`${s.url}/metrics`, {
      headers: { authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(main.status).toBe(404);
    expect((await fetch(`${s.metricsUrl}/sync/pull`)).status).toBe(404);
    expect((await fetch(`${s.metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    // /sync/status stays on the main port, here over PGlite.
    const pushed = await fetch(`${s.url}/sync/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: 'c1',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'x' } },
        ],
      }),
    });
    expect(pushed.status).toBe(200);
    const status = await fetch(`${s.url}/sync/status`, {
      headers: { authorization: 'Bearer scrape-token-0123456789' },
    });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      ok: true,
      store: { kind: 'pglite', reachable: true },
      oplog: { entries: 1, estimated: false },
      live: { subscribers: 0, lagMs: 0 },
    });
    // The oplog gauges read the store at most once a second: the next reads show the write.
    await expect
      .poll(
        async () =>
          (
            await fetch(`${s.metricsUrl}/metrics`, {
              headers: { authorization: 'Bearer scrape-token-0123456789' },
            })
          ).text(),
        { timeout: 15_000, interval: 200 },
      )
      .toMatch(/^sync_oplog_entries 1$/m);
    const after = await (
      await fetch(`${s.metricsUrl}/metrics`, {
        headers: { authorization: 'Bearer scrape-token-0123456789' },
      })
    ).text();
    expect(after).toMatch(/^sync_live_feed_lag_seconds 0$/m);
  });
});

describe('SYNC_METRICS_PORT refusals', () => {
  it('refuses a malformed port with one line', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
      env: { ...process.env, SYNC_METRICS_PORT: 'ninety' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(err.trim()).toBe(
      'error: SYNC_METRICS_PORT: expected a number from 0 to 65535, got "ninety"',
    );
  }, 90_000);
});
