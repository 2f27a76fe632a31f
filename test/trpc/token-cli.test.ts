/** `trpc-offline-sync token` and the dev secret file: created once with mode 0600 and reused; tokens signed with it (or SYNC_JWT_SECRET) carry the configured claims, issuer and audience and are accepted by a running server; no secret and bad flags end with one line. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDevSecret } from '../../server/cli/dev-secret.js';
import { runToken } from '../../server/cli/token.js';
import { signDevToken } from '../../server/auth/jwt.js';
import { listeningPort, spawnCli } from '../cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'token-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function token(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ out: string[]; info: string[] }> {
  const out: string[] = [];
  const info: string[] = [];
  await runToken(
    argv,
    env,
    (l) => out.push(l),
    (l) => info.push(l),
  );
  return { out, info };
}

describe('dev secret file', () => {
  it('is created once (mode 0600, 32 random bytes) and read back the same afterwards', () => {
    const data = join(dir, 'fresh', 'nested');
    const first = loadDevSecret(data);
    expect(first.created).toBe(true);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(first.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = loadDevSecret(data);
    expect(again).toEqual({ secret: first.secret, path: first.path, created: false });
  });

  it('refuses a file too short to be a secret', () => {
    const data = join(dir, 'short');
    loadDevSecret(data);
    writeFileSync(join(data, 'dev-secret'), 'abc\n');
    expect(() => loadDevSecret(data)).toThrow(/shorter than 32 characters/);
  });
});

describe('token command', () => {
  it('signs with the dev secret serve keeps in the data folder: sub, tenant and --ttl as asked; only the token on stdout', async () => {
    const data = join(dir, 'sign');
    const { secret } = loadDevSecret(data); // what serve does at its first start
    const { out, info } = await token([
      '--sub',
      'alice',
      '--tenant',
      'acme',
      '--ttl',
      '1h',
      '--data-dir',
      data,
    ]);
    expect(out).toHaveLength(1);
    expect(info[0]).toBe(
      `signed with the dev secret in ${join(data, 'dev-secret')}; claims sub → user, tenant → scope`,
    );
    const { payload } = await jwtVerify(out[0]!, new TextEncoder().encode(secret));
    expect(payload.sub).toBe('alice');
    expect(payload.tenant).toBe('acme');
    expect(payload.exp! - payload.iat!).toBe(3600);
    const second = await token(['--sub', 'bob', '--expires', '2h', '--data-dir', data]);
    const again = await jwtVerify(second.out[0]!, new TextEncoder().encode(secret));
    expect(again.payload.tenant).toBeUndefined();
    expect(again.payload.exp! - again.payload.iat!).toBe(7200);
  });

  it('says plainly when there is no secret to sign with (and writes none)', async () => {
    const data = join(dir, 'none');
    await expect(token(['--sub', 'a', '--data-dir', data])).rejects.toThrow(
      `token: no secret to sign with: SYNC_JWT_SECRET is unset and ${join(data, 'dev-secret')} does not exist (set SYNC_JWT_SECRET, or start \`trpc-offline-sync serve\` once with this data folder: it keeps a development secret there)`,
    );
    expect(() => statSync(data)).toThrow();
    await expect(
      token(['--sub', 'a', '--data-dir', data], {
        SYNC_JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      }),
    ).rejects.toThrow(
      /no secret to sign with: SYNC_JWT_JWKS_URL \/ SYNC_JWT_PUBLIC_KEY is set, so tokens come from your identity provider/,
    );
  });

  it('honours the configured claim names, issuer and audience', async () => {
    const env = {
      SYNC_JWT_SECRET: 'an-env-secret-that-is-long-enough-000',
      SYNC_JWT_USER_CLAIM: 'uid',
      SYNC_JWT_SCOPE_CLAIM: 'https://example.com/org',
      SYNC_JWT_ISSUER: 'https://auth.example.com/',
      SYNC_JWT_AUDIENCE: 'sync-api, other-api',
    };
    const { out, info } = await token(['--sub', 'dora', '--tenant', 'acme'], env);
    expect(info[0]).toBe(
      'signed with SYNC_JWT_SECRET; claims uid → user, https://example.com/org → scope; iss https://auth.example.com/, aud sync-api|other-api',
    );
    const { payload } = await jwtVerify(out[0]!, new TextEncoder().encode(env.SYNC_JWT_SECRET), {
      issuer: 'https://auth.example.com/',
      audience: 'sync-api',
    });
    expect(payload).toMatchObject({
      uid: 'dora',
      'https://example.com/org': 'acme',
      aud: ['sync-api', 'other-api'],
    });
    expect(payload.sub).toBeUndefined();
    expect(payload.tenant).toBeUndefined();
    await expect(
      token(['--sub', 'dora'], { ...env, SYNC_JWT_REQUIRE_SCOPE_CLAIM: 'true' }),
    ).rejects.toThrow(
      /--tenant is required: SYNC_JWT_REQUIRE_SCOPE_CLAIM=true refuses tokens without the https:\/\/example.com\/org claim/,
    );
  });

  it('signs with SYNC_JWT_SECRET when it is set (no file written)', async () => {
    const data = join(dir, 'env');
    const { out, info } = await token(['--sub', 'carol', '--expires', '60', '--data-dir', data], {
      SYNC_JWT_SECRET: 'an-env-secret-that-is-long-enough-000',
    });
    expect(info[0]).toBe('signed with SYNC_JWT_SECRET; claims sub → user');
    const { payload } = await jwtVerify(
      out[0]!,
      new TextEncoder().encode('an-env-secret-that-is-long-enough-000'),
    );
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(() => statSync(join(data, 'dev-secret'))).toThrow();
  });

  it.each([
    [['--tenant', 'x'], /--sub is required/],
    [['--sub', 'a', '--expires', 'never'], /--expires "never"/],
    [['--sub', 'a', '--ttl', 'soon'], /--ttl "soon": give seconds or a span like 30m, 1h/],
    [['--sub', 'a', '--ttl', '0'], /at least one second/],
    [['--sub', 'a', '--ttl', '1h', '--expires', '1h'], /--ttl or --expires, not both/],
    [['--sub', 'a', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j', async (argv, message) => {
    await expect(token(argv, { SYNC_DATA_DIR: join(dir, 'bad') })).rejects.toThrow(message);
  });
});

describe('a token printed by the command, used on a running server', () => {
  it('is accepted with the dev secret and the configured claims, issuer and audience; its scope is the one asked', async () => {
    const data = join(dir, 'served');
    const env = {
      SYNC_JWT_SECRET: '',
      SYNC_DATA_DIR: data,
      SYNC_LOG: 'silent',
      SYNC_JWT_USER_CLAIM: 'uid',
      SYNC_JWT_SCOPE_CLAIM: 'org',
      SYNC_JWT_ISSUER: 'https://auth.example.com/',
      SYNC_JWT_AUDIENCE: 'sync-api',
    };
    const run = spawnCli(['serve'], '', env);
    try {
      const base = `http://127.0.0.1:${await listeningPort(run)}`;
      const cli = (args: string[]) =>
        execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'token', ...args], {
          encoding: 'utf8',
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      const printed = cli(['--sub', 'ann', '--tenant', 'shop', '--ttl', '1h']);
      expect(printed).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/); // the token alone
      const other = cli(['--sub', 'bob', '--tenant', 'elsewhere']).trim();
      const auth = (t: string) => ({
        authorization: `Bearer ${t}`,
        'content-type': 'application/json',
      });
      const push = await fetch(`${base}/sync/push`, {
        method: 'POST',
        headers: auth(printed.trim()),
        body: JSON.stringify({
          clientId: 'cli-1',
          changes: [
            {
              mutationId: 1,
              collection: 'tasks',
              id: 't1',
              op: 'upsert',
              data: { title: 'signed by token' },
            },
          ],
        }),
      });
      expect(push.status).toBe(200);
      const pull = async (t: string) =>
        (
          (await (await fetch(`${base}/sync/pull`, { headers: auth(t) })).json()) as {
            changes: { id: string }[];
          }
        ).changes.map((c) => c.id);
      expect(await pull(printed.trim())).toEqual(['t1']);
      expect(await pull(other)).toEqual([]); // another tenant: its own scope
      // The same secret without the configured claims, issuer and audience is refused.
      const plain = await signDevToken(readFileSync(join(data, 'dev-secret'), 'utf8').trim(), {
        sub: 'ann',
        tenant: 'shop',
      });
      expect((await fetch(`${base}/sync/pull`, { headers: auth(plain) })).status).toBe(401);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 180_000); // a PGlite server start and CLI runs: slow on a busy machine
});
