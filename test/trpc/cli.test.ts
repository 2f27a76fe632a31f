/** The real CLI: serve on a temp PGlite dir, push + pull with a signed token, SIGTERM, restart on the same data; init; bad input. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import type { AppRouter } from '../../server/demo/app-router.js';
import { listeningPort, spawnCli } from '../cli-process.js';

const SECRET = 'cli-test-secret-cli-test-secret-cli!';
const dir = mkdtempSync(join(tmpdir(), 'sync-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], env: Record<string, string> = {}) => spawnCli(args, SECRET, env);

async function serve(dataDir: string, env: Record<string, string> = {}) {
  const run = cli(['serve'], { SYNC_DATA_DIR: dataDir, ...env });
  const port = await listeningPort(
    run,
    /listening on http:\/\/127\.0\.0\.1:(\d+) \(trpc: \/trpc, ws: ws:\/\/127\.0\.0\.1:\d+\/trpc, rest: \/sync, openapi: \/openapi\.json\)/,
  );
  const token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 600 });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `http://127.0.0.1:${port}/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${token}` },
      }),
    ],
  });
  return { ...run, port, trpc };
}

describe('trpc-offline-sync serve', () => {
  it('serves, stops cleanly on SIGTERM and keeps data and checkpoints across restarts', async () => {
    const dataDir = join(dir, 'data');
    const first = await serve(dataDir);
    await first.trpc.sync.push.mutate({
      clientId: 'pos-1',
      changes: [
        {
          mutationId: 1,
          collection: 'tasks',
          id: 't1',
          op: 'upsert',
          data: { title: 'Count stock' },
        },
      ],
    });
    const pulled = await first.trpc.sync.pull.query({});
    expect(pulled.changes.map((c) => c.id)).toEqual(['t1']);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await serve(dataDir);
    expect(await second.trpc.sync.pull.query({ since: pulled.checkpoint })).toMatchObject({
      changes: [],
      checkpoint: pulled.checkpoint,
    });
    expect((await second.trpc.sync.full.query({})).docs.map((d) => d.data)).toEqual([
      { title: 'Count stock', done: false },
    ]);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('writes structured JSON log lines (SYNC_LOG=debug logs every request)', async () => {
    const run = await serve(join(dir, 'logs'), { SYNC_LOG: 'debug' });
    await run.trpc.sync.push.mutate({
      clientId: 'pos-9',
      changes: [
        { mutationId: 1, collection: 'tasks', id: 'l1', op: 'upsert', data: { title: 'Log me' } },
      ],
    });
    const deadline = Date.now() + 10_000;
    while (!run.output().includes('"event":"push"') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const line = run
      .output()
      .split('\n')
      .find((l) => l.includes('"event":"push"'));
    expect(JSON.parse(line!)).toMatchObject({
      level: 'debug',
      event: 'push',
      user: 'ann',
      scope: 'shop',
      changes: 1,
      accepted: 1,
    });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 90_000);

  it('refuses an unknown SYNC_LOG level with one line', async () => {
    const run = cli(['serve', '--data-dir', join(dir, 'badlog')], { SYNC_LOG: 'loud' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      /^error: SYNC_LOG must be one of silent, error, info, debug, got "loud"\n$/,
    );
  }, 90_000);

  it('SYNC_RATE_LIMIT=2/1m: the third request of a user gets 429 with Retry-After', async () => {
    const run = await serve(join(dir, 'limited'), { SYNC_RATE_LIMIT: '2/1m' });
    expect(run.output()).toMatch(/rate limit: 2 requests per 60000 ms per user/);
    await run.trpc.sync.pull.query({});
    await run.trpc.sync.pull.query({});
    const token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 600 });
    const res = await fetch(`http://127.0.0.1:${run.port}/sync/pull`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'TOO_MANY_REQUESTS',
    );
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 90_000);

  it('refuses a malformed SYNC_RATE_LIMIT with one line', async () => {
    const run = cli(['serve', '--data-dir', join(dir, 'badlimit')], {
      SYNC_RATE_LIMIT: '600 per minute',
    });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      /^error: SYNC_RATE_LIMIT: expected REQUESTS\/WINDOW such as 600\/1m .*got "600 per minute"\n$/,
    );
  }, 90_000);

  it('prints a generated secret and a dev token when SYNC_JWT_SECRET is unset', async () => {
    const run = cli(['serve', '--data-dir', join(dir, 'dev')], { SYNC_JWT_SECRET: '' });
    const deadline = Date.now() + 60_000;
    while (
      !run.output().includes('listening on') &&
      Date.now() < deadline &&
      run.child.exitCode === null
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(run.output()).toMatch(
      /dev token \(user "dev", tenant "dev", valid 24 h\): \S+\.\S+\.\S+/,
    );
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 90_000);
});

describe('trpc-offline-sync init and bad input', () => {
  it('init on PGlite reports what it created, then that nothing was left to create', async () => {
    const dataDir = join(dir, 'init');
    const first = cli(['init', '--data-dir', dataDir]);
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/initialized embedded PGlite/);
    expect(first.output()).toMatch(/created table public\.sync_oplog/);
    const again = cli(['init', '--data-dir', dataDir]);
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/nothing to create/);
  }, 90_000);

  const bad: [string, string[], RegExp][] = [
    ['an unknown flag', ['serve', '--bogus'], /^error: unknown option --bogus \(see --help\)\n$/],
    ['a bad port', ['serve', '--port', 'x'], /^error: --port: expected a number/],
    [
      'a bad database URL',
      ['serve', '--database-url', 'mysql://x'],
      /^error: --database-url: expected a postgres:\/\//,
    ],
    [
      'an unreachable database',
      ['init', '--database-url', 'postgres://u:p@127.0.0.1:1/db'],
      /^error: cannot initialize PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/db: ECONNREFUSED/,
    ],
    ['an unknown command', ['launch'], /^error: unknown command "launch"/],
  ];
  it.each(bad)(
    'exits 1 with one line for %s',
    async (_what, args, pattern) => {
      const run = cli(args);
      expect(await run.exited).toBe(1);
      expect(run.output()).toMatch(pattern);
      expect(run.output().trim().split('\n')).toHaveLength(1);
    },
    30_000,
  );

  it('--help lists the commands', async () => {
    const run = cli(['--help']);
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('trpc-offline-sync serve');
  }, 90_000);
});
