/** `trpc-offline-sync token` and the dev secret file: created once with mode 0600 and reused, tokens verify against it (or SYNC_JWT_SECRET), bad flags end with one line. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDevSecret } from '../../server/cli/dev-secret.js';
import { runToken } from '../../server/cli/token.js';

const dir = mkdtempSync(join(tmpdir(), 'token-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function token(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ out: string[]; info: string[] }> {
  const out: string[] = [];
  const info: string[] = [];
  await runToken(argv, env, (l) => out.push(l), (l) => info.push(l));
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
  it('signs with the dev secret of the data folder: sub, tenant and expiry as asked; only the token on stdout', async () => {
    const data = join(dir, 'sign');
    const { out, info } = await token(['--sub', 'alice', '--tenant', 'acme', '--expires', '2h', '--data-dir', data]);
    expect(out).toHaveLength(1);
    expect(info[0]).toMatch(/created now/);
    const secret = readFileSync(join(data, 'dev-secret'), 'utf8').trim();
    const { payload } = await jwtVerify(out[0]!, new TextEncoder().encode(secret));
    expect(payload.sub).toBe('alice');
    expect(payload.tenant).toBe('acme');
    expect(payload.exp! - payload.iat!).toBe(7200);
    const second = await token(['--sub', 'bob', '--data-dir', data]);
    expect(second.info[0]).not.toMatch(/created now/);
    expect((await jwtVerify(second.out[0]!, new TextEncoder().encode(secret))).payload.tenant).toBeUndefined();
  });

  it('signs with SYNC_JWT_SECRET when it is set (no file written)', async () => {
    const data = join(dir, 'env');
    const { out, info } = await token(['--sub', 'carol', '--expires', '60', '--data-dir', data], { SYNC_JWT_SECRET: 'an-env-secret-that-is-long-enough-000' });
    expect(info[0]).toBe('signed with SYNC_JWT_SECRET');
    const { payload } = await jwtVerify(out[0]!, new TextEncoder().encode('an-env-secret-that-is-long-enough-000'));
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(() => statSync(join(data, 'dev-secret'))).toThrow();
  });

  it.each([
    [['--tenant', 'x'], /--sub is required/],
    [['--sub', 'a', '--expires', 'never'], /--expires "never"/],
    [['--sub', 'a', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j', async (argv, message) => {
    await expect(token(argv, { SYNC_DATA_DIR: join(dir, 'bad') })).rejects.toThrow(message);
  });
});
