/** Every limit from the environment: readConfig maps each SYNC_MAX_* / SYNC_*_LIMIT / SYNC_RATE_LIMIT_IP variable, refuses bad values with one line, and the real CLI applies them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import { readConfig } from '../../server/cli/config.js';
import { LIMIT_ENV } from '../../server/cli/limits-env.js';
import { listeningPort, spawnCli, cliRefusal } from '../cli-process.js';

const SECRET = 'cli-limits-secret-cli-limits-secret!!';
const dir = mkdtempSync(join(tmpdir(), 'sync-cli-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (env: Record<string, string>) => readConfig(['serve'], env);
const refusal = cliRefusal;

describe('readConfig: limits from the environment', () => {
  it('maps every documented variable to its engine limit', () => {
    const env: Record<string, string> = {};
    const expected: Record<string, number> = {};
    for (const [name, key] of Object.entries(LIMIT_ENV)) {
      // Valid for every limit: within each range, default page sizes not above the maxima.
      const value =
        key === 'maxDepth'
          ? 40
          : key === 'maxIdLength'
            ? 200
            : key.endsWith('DefaultLimit')
              ? 100
              : key === 'maxQueryParams'
                ? 20
                : 5000;
      env[name] = String(value);
      expected[key] = value;
    }
    expect(config(env).limits).toEqual(expected);
    expect(Object.keys(expected).sort()).toEqual(Object.values(LIMIT_ENV).sort());
  });
  it('leaves unset and empty variables at the engine defaults', () => {
    expect(config({ SYNC_MAX_DEPTH: '' }).limits).toEqual({});
    expect(config({ SYNC_MAX_BODY_BYTES: '16_777_216' }).limits).toEqual({
      maxBodyBytes: 16_777_216,
    });
  });
  it.each([
    [
      'SYNC_MAX_BODY_BYTES',
      '12k',
      /^SYNC_MAX_BODY_BYTES: expected a positive integer \(maxBodyBytes, default 16777216\), got "12k"$/,
    ],
    ['SYNC_MAX_CHANGES_PER_PUSH', '0', /^SYNC_MAX_CHANGES_PER_PUSH: expected a positive integer/],
    ['SYNC_MAX_DOC_BYTES', '-5', /^SYNC_MAX_DOC_BYTES: expected a positive integer/],
    ['SYNC_MAX_DEPTH', '2000', /^SYNC_MAX_DEPTH: must be at most 1000 \(maxDepth\)$/],
    ['SYNC_MAX_ID_LENGTH', '300', /^SYNC_MAX_ID_LENGTH: must be at most 256 \(maxIdLength\)$/],
    [
      'SYNC_PULL_DEFAULT_LIMIT',
      '5000',
      /^SYNC_PULL_DEFAULT_LIMIT: pullDefaultLimit \(5000\) must not exceed pullMaxLimit \(1000\)$/,
    ],
    [
      'SYNC_FULL_MAX_LIMIT',
      '10',
      /^SYNC_FULL_MAX_LIMIT: fullDefaultLimit \(1000\) must not exceed fullMaxLimit \(10\)$/,
    ],
    ['SYNC_MAX_URL_LENGTH', '10', /^SYNC_MAX_URL_LENGTH: must be at least 64 \(maxUrlLength\)$/],
    ['SYNC_MAX_QUERY_PARAMS', '1.5', /^SYNC_MAX_QUERY_PARAMS: expected a positive integer/],
    [
      'SYNC_RATE_LIMIT_IP',
      '1200 per minute',
      /^SYNC_RATE_LIMIT_IP: expected REQUESTS\/WINDOW such as 600\/1m/,
    ],
    ['SYNC_TRUST_PROXY', 'yes', /^SYNC_TRUST_PROXY: expected the number of proxies/],
  ])('%s=%s is refused with one line naming it', (name, value, message) => {
    const text = refusal({ [name]: value });
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });
  it('reads SYNC_RATE_LIMIT_IP and SYNC_TRUST_PROXY', () => {
    expect(config({ SYNC_RATE_LIMIT_IP: '1200/1m', SYNC_TRUST_PROXY: '1' })).toMatchObject({
      ipRateLimit: { requests: 1200, windowMs: 60_000 },
      trustProxy: 1,
    });
    expect(config({})).toMatchObject({ ipRateLimit: null, trustProxy: 0 });
  });
});

const cli = (env: Record<string, string>) => spawnCli(['serve'], SECRET, env);

async function serve(env: Record<string, string>) {
  const run = cli(env);
  const port = await listeningPort(run);
  return { ...run, url: `http://127.0.0.1:${port}` };
}

describe('trpc-offline-sync serve: limits from the environment', () => {
  it('applies SYNC_MAX_CHANGES_PER_PUSH, SYNC_MAX_DEPTH, SYNC_MAX_URL_LENGTH and SYNC_MAX_QUERY_PARAMS', async () => {
    const run = await serve({
      SYNC_DATA_DIR: join(dir, 'limits'),
      SYNC_MAX_CHANGES_PER_PUSH: '2',
      SYNC_MAX_DEPTH: '3',
      SYNC_MAX_URL_LENGTH: '300',
      SYNC_MAX_QUERY_PARAMS: '3',
      SYNC_LOG: 'error',
    });
    try {
      expect(run.output()).toContain(
        'limits: maxChangesPerPush=2, maxDepth=3, maxUrlLength=300, maxQueryParams=3',
      );
      const token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 600 });
      const push = (body: unknown) =>
        fetch(`${run.url}/sync/push`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const change = (i: number, data: unknown) => ({
        mutationId: i,
        collection: 'tasks',
        id: `t${i}`,
        op: 'upsert',
        data,
      });
      const three = await push({
        clientId: 'c',
        changes: [1, 2, 3].map((i) => change(i, { title: 'x' })),
      });
      expect(three.status).toBe(413);
      const deep = await push({
        clientId: 'c',
        changes: [change(4, { title: 'x', extra: { a: { b: { c: 1 } } } })],
      });
      expect(deep.status).toBe(400);
      expect(((await deep.json()) as any).error.message).toContain('nested deeper than 3 levels');
      const long = await fetch(`${run.url}/sync/pull?since=${'x'.repeat(400)}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(long.status).toBe(414);
      const many = await fetch(`${run.url}/sync/pull?a=1&b=2&c=3&d=4`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(many.status).toBe(400);
      const pulled = (await (
        await fetch(`${run.url}/sync/pull`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { changes: unknown[] };
      expect(pulled.changes).toEqual([]); // nothing refused was written
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  }, 90_000);

  it('SYNC_RATE_LIMIT_IP=2/1m: the third request from one address gets 429 even without a token, and is logged', async () => {
    const run = await serve({ SYNC_DATA_DIR: join(dir, 'ip'), SYNC_RATE_LIMIT_IP: '2/1m' });
    try {
      expect(run.output()).toContain('rate limit: 2 requests per 60000 ms per client address');
      expect((await fetch(`${run.url}/sync/pull`)).status).toBe(401);
      expect(
        (await fetch(`${run.url}/sync/pull`, { headers: { authorization: 'Bearer wrong' } }))
          .status,
      ).toBe(401);
      const third = await fetch(`${run.url}/sync/pull`);
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('30');
      const deadline = Date.now() + 10_000;
      while (!run.output().includes('"event":"ip_rate_limited"') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const line = run
        .output()
        .split('\n')
        .find((l) => l.includes('"event":"ip_rate_limited"'));
      expect(JSON.parse(line!)).toMatchObject({
        level: 'info',
        event: 'ip_rate_limited',
        ip: '127.0.0.1',
        op: 'request',
      });
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  }, 90_000);

  it('a malformed limit variable exits 1 with one line', async () => {
    const run = cli({ SYNC_DATA_DIR: join(dir, 'bad'), SYNC_MAX_DOC_BYTES: 'lots' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      /^error: SYNC_MAX_DOC_BYTES: expected a positive integer \(maxDocumentBytes, default 1000000\), got "lots"\n$/,
    );
  }, 90_000);
});
