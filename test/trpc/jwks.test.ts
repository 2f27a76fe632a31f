/** Tokens from identity providers: JWKS (RS256, ES256, EdDSA) served on 127.0.0.1, rotation, unknown keys, PEM keys, iss/aud, claim mapping on REST and tRPC, and the real CLI. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthenticator } from '../../server/auth/jwt.js';
import type { AppRouter } from '../../server/demo/app-router.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { storeCases } from '../rest/harness.js';

type Key = { kid: string; alg: string; privateKey: CryptoKey; jwk: JWK };
async function makeKey(alg: string, kid: string): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  return {
    kid,
    alg,
    privateKey: privateKey as CryptoKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
  };
}
function sign(
  key: Key,
  claims: Record<string, unknown>,
  opts: { sub?: string; iss?: string; aud?: string; exp?: string | number } = {},
) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '10m');
  if (opts.sub) jwt.setSubject(opts.sub);
  if (opts.iss) jwt.setIssuer(opts.iss);
  if (opts.aud) jwt.setAudience(opts.aud);
  return jwt.sign(key.privateKey);
}

/** A JWKS endpoint on 127.0.0.1 whose key set the test swaps; counts fetches. */
async function jwksServer() {
  let keys: JWK[] = [];
  let fetches = 0;
  const server = http.createServer((req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    set: (k: Key[]) => void (keys = k.map((x) => x.jwk)),
    fetches: () => fetches,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let jwks: Awaited<ReturnType<typeof jwksServer>>;
const ISS = 'https://idp.example.test/';
const AUD = 'sync-api';
beforeAll(async () => {
  jwks = await jwksServer();
});
afterAll(() => jwks?.close());

describe('jwtAuthenticator with a JWKS', () => {
  it.each(['RS256', 'ES256', 'EdDSA'])(
    'accepts %s tokens signed by a key of the set, refuses a token of an unknown key',
    async (alg) => {
      const key = await makeKey(alg, `k-${alg}`);
      const stranger = await makeKey(alg, `k-${alg}`); // same kid, another key: forged
      const other = await makeKey(alg, `other-${alg}`);
      jwks.set([key]);
      const auth = jwtAuthenticator({
        jwksUrl: jwks.url,
        issuer: ISS,
        audience: AUD,
        jwksCooldownMs: 0,
      });
      expect(
        await auth(await sign(key, { tenant: 'acme' }, { sub: 'ann', iss: ISS, aud: AUD })),
      ).toMatchObject({ userId: 'ann', scopeId: 'acme' });
      expect(
        await auth(await sign(stranger, { tenant: 'acme' }, { sub: 'ann', iss: ISS, aud: AUD })),
      ).toBeNull();
      expect(
        await auth(await sign(other, { tenant: 'acme' }, { sub: 'ann', iss: ISS, aud: AUD })),
      ).toBeNull();
    },
  );

  it('refuses wrong iss, wrong aud, expired, and HS256 or alg:none tokens when only a JWKS is configured', async () => {
    const key = await makeKey('ES256', 'iss-test');
    jwks.set([key]);
    const auth = jwtAuthenticator({
      jwksUrl: jwks.url,
      issuer: ISS,
      audience: [AUD, 'other'],
      jwksCooldownMs: 0,
    });
    expect(
      await auth(await sign(key, { tenant: 'a' }, { sub: 'a', iss: ISS, aud: 'other' })),
    ).toMatchObject({ userId: 'a', scopeId: 'a' });
    expect(
      await auth(await sign(key, {}, { sub: 'a', iss: 'https://evil.test/', aud: AUD })),
    ).toBeNull();
    expect(await auth(await sign(key, {}, { sub: 'a', iss: ISS, aud: 'someone-else' }))).toBeNull();
    expect(await auth(await sign(key, {}, { sub: 'a', iss: ISS }))).toBeNull();
    expect(
      await auth(
        await sign(
          key,
          {},
          { sub: 'a', iss: ISS, aud: AUD, exp: Math.floor(Date.now() / 1000) - 30 },
        ),
      ),
    ).toBeNull();
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setIssuer(ISS)
      .setAudience(AUD)
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await auth(hs)).toBeNull();
    const [, payload] = (await sign(key, {}, { sub: 'a', iss: ISS, aud: AUD })).split('.');
    expect(
      await auth(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`),
    ).toBeNull();
    // clock tolerance
    const late = await sign(
      key,
      { tenant: 'a' },
      { sub: 'a', iss: ISS, aud: AUD, exp: Math.floor(Date.now() / 1000) - 30 },
    );
    expect(
      await jwtAuthenticator({
        jwksUrl: jwks.url,
        issuer: ISS,
        audience: AUD,
        clockToleranceSec: 120,
      })(late),
    ).toMatchObject({ userId: 'a', scopeId: 'a' });
  });

  it('follows key rotation: a new kid is fetched and works, the removed key stops working', async () => {
    const oldKey = await makeKey('RS256', 'rot-old');
    const newKey = await makeKey('RS256', 'rot-new');
    jwks.set([oldKey]);
    const auth = jwtAuthenticator({ jwksUrl: jwks.url, jwksCooldownMs: 0 });
    const oldToken = await sign(oldKey, { tenant: 'ann' }, { sub: 'ann' });
    expect(await auth(oldToken)).toMatchObject({ userId: 'ann', scopeId: 'ann' });
    const before = jwks.fetches();
    expect(await auth(oldToken)).not.toBeNull();
    expect(jwks.fetches()).toBe(before); // cached
    jwks.set([newKey]); // rotation: the provider publishes the new key and revokes the old one
    expect(await auth(await sign(newKey, { tenant: 'ann' }, { sub: 'ann' }))).toMatchObject({
      userId: 'ann',
      scopeId: 'ann',
    });
    expect(jwks.fetches()).toBe(before + 1);
    expect(await auth(oldToken)).toBeNull();
  });

  it('requireScopeClaim: on by default with a JWKS, a token without the scope claim is refused; false restores scope = user', async () => {
    const key = await makeKey('ES256', 'scope-claim');
    jwks.set([key]);
    const noTenant = await sign(key, {}, { sub: 'acme' });
    expect(await jwtAuthenticator({ jwksUrl: jwks.url, jwksCooldownMs: 0 })(noTenant)).toBeNull();
    expect(
      await jwtAuthenticator({ jwksUrl: jwks.url, jwksCooldownMs: 0, requireScopeClaim: true })(
        noTenant,
      ),
    ).toBeNull();
    expect(
      await jwtAuthenticator({ jwksUrl: jwks.url, jwksCooldownMs: 0, requireScopeClaim: false })(
        noTenant,
      ),
    ).toMatchObject({ userId: 'acme', scopeId: 'acme' });
    // A present scope claim is still taken; an empty one is refused whatever the option.
    expect(
      await jwtAuthenticator({ jwksUrl: jwks.url, jwksCooldownMs: 0 })(
        await sign(key, { tenant: 't1' }, { sub: 'acme' }),
      ),
    ).toMatchObject({ userId: 'acme', scopeId: 't1' });
    expect(
      await jwtAuthenticator({ jwksUrl: jwks.url, jwksCooldownMs: 0, requireScopeClaim: false })(
        await sign(key, { tenant: '' }, { sub: 'acme' }),
      ),
    ).toBeNull();
  });

  it('an unreachable JWKS refuses tokens (401), it does not throw', async () => {
    const key = await makeKey('ES256', 'down');
    const auth = jwtAuthenticator({ jwksUrl: 'http://127.0.0.1:9/jwks.json', jwksTimeoutMs: 500 });
    expect(await auth(await sign(key, {}, { sub: 'a' }))).toBeNull();
  });
});

describe('jwtAuthenticator with a PEM public key', () => {
  it.each(['RS256', 'ES256', 'EdDSA'])('%s', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const pem = await exportSPKI(publicKey);
    const auth = jwtAuthenticator({ publicKey: pem, audience: AUD });
    const token = await new SignJWT({ tenant: 't' })
      .setProtectedHeader({ alg })
      .setSubject('u')
      .setAudience(AUD)
      .setExpirationTime('1m')
      .sign(privateKey);
    expect(await auth(token)).toMatchObject({ userId: 'u', scopeId: 't' });
    const other = await generateKeyPair(alg);
    expect(
      await auth(
        await new SignJWT({})
          .setProtectedHeader({ alg })
          .setSubject('u')
          .setAudience(AUD)
          .setExpirationTime('1m')
          .sign(other.privateKey),
      ),
    ).toBeNull();
    // algorithm confusion: HS256 signed with the PEM text as the secret
    expect(
      await auth(
        await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('u')
          .setAudience(AUD)
          .setExpirationTime('1m')
          .sign(new TextEncoder().encode(pem)),
      ),
    ).toBeNull();
  });

  it('requireScopeClaim is on by default with a public key (and with a secret beside it)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const noTenant = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('acme')
      .setExpirationTime('1m')
      .sign(privateKey);
    expect(await jwtAuthenticator({ publicKey: pem })(noTenant)).toBeNull();
    expect(await jwtAuthenticator({ publicKey: pem, secret: 'x'.repeat(32) })(noTenant)).toBeNull();
    expect(
      await jwtAuthenticator({ publicKey: pem, requireScopeClaim: false })(noTenant),
    ).toMatchObject({ userId: 'acme', scopeId: 'acme' });
  });

  it('rejects bad configuration clearly', () => {
    expect(() => jwtAuthenticator({})).toThrow(/secret, a jwksUrl or a publicKey/);
    expect(() => jwtAuthenticator({ publicKey: 'nope' })).toThrow(/not a PEM public key/);
    expect(() => jwtAuthenticator({ jwksUrl: 'ftp://x/y' })).toThrow(/http\(s\)/);
  });
});

describe.each(await storeCases())('claim mapping on REST and tRPC on $name', ({ create }) => {
  it('user_id / business_id tokens scope by business', async () => {
    const key = await makeKey('ES256', 'claims');
    jwks.set([key]);
    const store = await create();
    const engine = createSyncEngine({ store, schema: demoSchema });
    const srv = createSyncHttpServer({
      engine,
      authenticate: jwtAuthenticator({
        jwksUrl: jwks.url,
        userClaim: 'user_id',
        scopeClaim: 'business_id',
      }),
    });
    const { url } = await srv.listen(0, '127.0.0.1');
    try {
      const ann = await sign(key, { user_id: 'ann', business_id: 'shop-1' });
      const bob = await sign(key, { user_id: 'bob', business_id: 'shop-1' });
      const eve = await sign(key, { user_id: 'eve', business_id: 42 });
      const noUser = await sign(key, { business_id: 'shop-1' }, { sub: 'ann' });
      const push = await fetch(`${url}/sync/push`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ann}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          clientId: 'd1',
          changes: [
            {
              mutationId: 1,
              collection: 'tasks',
              id: 't1',
              op: 'upsert',
              data: { title: 'x' },
              baseVersion: null,
            },
          ],
        }),
      });
      expect(push.status).toBe(200);
      const trpc = (token: string) =>
        createTRPCClient<AppRouter>({
          links: [
            httpBatchLink({
              url: `${url}/trpc`,
              transformer: superjson,
              headers: { authorization: `Bearer ${token}` },
            }),
          ],
        });
      expect((await trpc(bob).sync.pull.query({})).changes.map((c) => c.id)).toEqual(['t1']);
      expect((await trpc(eve).sync.pull.query({})).changes).toEqual([]);
      const restEve = await (
        await fetch(`${url}/sync/pull`, { headers: { authorization: `Bearer ${eve}` } })
      ).json();
      expect(restEve.changes).toEqual([]);
      expect(
        (await fetch(`${url}/sync/pull`, { headers: { authorization: `Bearer ${noUser}` } }))
          .status,
      ).toBe(401);
      const err = await trpc(noUser)
        .sync.pull.query({})
        .catch((e: unknown) => e);
      expect((err as TRPCClientError<any>).data?.code).toBe('UNAUTHORIZED');
      const scopes = await store.head('shop-1');
      expect(scopes.seq).toBe(1);
    } finally {
      await srv.close();
      await engine.close();
      await store.close();
    }
  });
});

describe('demo server (CLI process) with SYNC_JWT_JWKS_URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-jwks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(env: Record<string, string>) {
    const env2: Record<string, string | undefined> = {
      ...process.env,
      PORT: '0',
      SYNC_DATA_DIR: join(dir, `d${Math.random().toString(36).slice(2)}`),
      ...env,
    };
    delete env2.SYNC_JWT_SECRET;
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
      env: env2,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) return { child, port: Number(m[1]), output: () => out };
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`CLI did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('logs in with IdP tokens, scopes by the configured claims, prints no dev token', async () => {
    const key = await makeKey('RS256', 'cli');
    jwks.set([key]);
    const run = await serve({
      SYNC_JWT_JWKS_URL: jwks.url,
      SYNC_JWT_ISSUER: ISS,
      SYNC_JWT_AUDIENCE: AUD,
      SYNC_JWT_USER_CLAIM: 'user_id',
      SYNC_JWT_SCOPE_CLAIM: 'business_id',
    });
    try {
      expect(run.output()).not.toMatch(/dev token \(/);
      expect(run.output()).not.toMatch(/SYNC_JWT_SECRET not set/);
      expect(run.output()).toMatch(/no dev token/);
      const base = `http://127.0.0.1:${run.port}`;
      const good = await sign(key, { user_id: 'ann', business_id: 'b1' }, { iss: ISS, aud: AUD });
      const push = await fetch(`${base}/sync/push`, {
        method: 'POST',
        headers: { authorization: `Bearer ${good}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          clientId: 'd1',
          changes: [
            {
              mutationId: 1,
              collection: 'tasks',
              id: 't1',
              op: 'upsert',
              data: { title: 'x' },
              baseVersion: null,
            },
          ],
        }),
      });
      expect(push.status).toBe(200);
      const trpc = createTRPCClient<AppRouter>({
        links: [
          httpBatchLink({
            url: `${base}/trpc`,
            transformer: superjson,
            headers: {
              authorization: `Bearer ${await sign(key, { user_id: 'bob', business_id: 'b1' }, { iss: ISS, aud: AUD })}`,
            },
          }),
        ],
      });
      expect((await trpc.sync.pull.query({})).changes.map((c) => c.id)).toEqual(['t1']);
      const wrongAud = await sign(
        key,
        { user_id: 'ann', business_id: 'b1' },
        { iss: ISS, aud: 'x' },
      );
      expect(
        (await fetch(`${base}/sync/pull`, { headers: { authorization: `Bearer ${wrongAud}` } }))
          .status,
      ).toBe(401);
      const unknown = await sign(
        await makeKey('RS256', 'cli-unknown'),
        { user_id: 'ann', business_id: 'b1' },
        { iss: ISS, aud: AUD },
      );
      expect(
        (await fetch(`${base}/sync/pull`, { headers: { authorization: `Bearer ${unknown}` } }))
          .status,
      ).toBe(401);
      // No business_id: refused by default with a JWKS (it would otherwise read scope "b1" as user "b1").
      const noScope = await sign(key, { user_id: 'b1' }, { iss: ISS, aud: AUD });
      expect(
        (await fetch(`${base}/sync/pull`, { headers: { authorization: `Bearer ${noScope}` } }))
          .status,
      ).toBe(401);
    } finally {
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
    }
  }, 90_000);

  it('SYNC_JWT_REQUIRE_SCOPE_CLAIM=false takes the user id as the scope; a bad value fails with one line', async () => {
    const key = await makeKey('ES256', 'cli-scope');
    jwks.set([key]);
    const run = await serve({ SYNC_JWT_JWKS_URL: jwks.url, SYNC_JWT_REQUIRE_SCOPE_CLAIM: 'false' });
    try {
      const noTenant = await sign(key, {}, { sub: 'ann' });
      const res = await fetch(`http://127.0.0.1:${run.port}/sync/pull`, {
        headers: { authorization: `Bearer ${noTenant}` },
      });
      expect(res.status).toBe(200);
    } finally {
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
    }
    const bad = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
      env: { ...process.env, PORT: '0', SYNC_JWT_REQUIRE_SCOPE_CLAIM: 'yes' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    bad.stderr.on('data', (d) => (err += d));
    bad.stdout.on('data', (d) => (err += d));
    const [code] = await once(bad, 'exit');
    expect(code).toBe(1);
    expect(err).toMatch(/SYNC_JWT_REQUIRE_SCOPE_CLAIM: true or false, got "yes"/);
  }, 90_000);

  it('SYNC_JWT_PUBLIC_KEY as a PEM file path works; a bad key fails with one line', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const file = join(dir, 'key.pem');
    writeFileSync(file, await exportSPKI(publicKey));
    const run = await serve({ SYNC_JWT_PUBLIC_KEY: file });
    try {
      const token = await new SignJWT({ tenant: 'x' })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('ann')
        .setExpirationTime('1m')
        .sign(privateKey);
      expect(
        (
          await fetch(`http://127.0.0.1:${run.port}/sync/pull`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).status,
      ).toBe(200);
      expect(run.output()).toMatch(/PEM public key/);
    } finally {
      run.child.kill('SIGTERM');
      await once(run.child, 'exit');
    }
    const bad = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
      env: { ...process.env, PORT: '0', SYNC_JWT_PUBLIC_KEY: join(dir, 'missing.pem') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    bad.stderr.on('data', (d) => (err += d));
    bad.stdout.on('data', (d) => (err += d));
    const [code] = await once(bad, 'exit');
    expect(code).toBe(1);
    expect(err).toMatch(/SYNC_JWT_PUBLIC_KEY: neither PEM text nor a readable file: ENOENT/);
  }, 90_000);
});
