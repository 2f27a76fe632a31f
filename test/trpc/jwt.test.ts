/** JWT authentication: bad tokens of every kind are refused as UNAUTHORIZED; a good one works and `tenant` sets the scope. */
import { SignJWT, base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { storeCases } from '../rest/harness.js';
import { SECRET, startServer, type TestServer } from './harness.js';

const authenticate = jwtAuthenticator({ secret: SECRET });
const enc = (o: object) => base64url.encode(JSON.stringify(o));

describe('jwtAuthenticator', () => {
  it('maps sub to userId and tenant to scopeId, defaulting the scope to sub', async () => {
    expect(
      await authenticate(
        await signDevToken(SECRET, { sub: 'alice', tenant: 'acme', expiresIn: 60 }),
      ),
    ).toEqual({ userId: 'alice', scopeId: 'acme', expiresAt: expect.any(Number) });
    const actor = await authenticate(await signDevToken(SECRET, { sub: 'alice', expiresIn: 60 }));
    expect(Math.abs(actor!.expiresAt! - (Date.now() + 60_000))).toBeLessThan(2000); // exp in ms, for live-stream expiry
    expect(await authenticate(await signDevToken(SECRET, { sub: 'bob', expiresIn: '1h' }))).toEqual(
      { userId: 'bob', scopeId: 'bob', expiresAt: expect.any(Number) },
    );
  });

  it('reads the scope from a custom claim', async () => {
    const token = await new SignJWT({ org: 'o1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect(await jwtAuthenticator({ secret: SECRET, scopeClaim: 'org' })(token)).toEqual({
      userId: 'u',
      scopeId: 'o1',
      expiresAt: expect.any(Number),
    });
  });

  it('refuses missing, malformed, forged, unsigned and expired tokens', async () => {
    const good = await signDevToken(SECRET, { sub: 'alice', expiresIn: 60 });
    const [h, p] = good.split('.');
    expect(await authenticate(null)).toBeNull();
    expect(await authenticate('not-a-jwt')).toBeNull();
    expect(
      await authenticate(
        await signDevToken('another-secret-another-secret!!', { sub: 'alice', expiresIn: 60 }),
      ),
    ).toBeNull();
    expect(
      await authenticate(`${h}.${enc({ sub: 'mallory', exp: 9e9 })}.${good.split('.')[2]}`),
    ).toBeNull();
    expect(await authenticate(`${enc({ alg: 'none', typ: 'JWT' })}.${p}.`)).toBeNull();
    expect(
      await authenticate(await signDevToken(SECRET, { sub: 'alice', expiresIn: -10 })),
    ).toBeNull();
    expect(
      await jwtAuthenticator({ secret: SECRET, clockToleranceSec: 60 })(
        await signDevToken(SECRET, { sub: 'a', expiresIn: -10 }),
      ),
    ).not.toBeNull();
  });

  it('requireScopeClaim: off by default with only a secret (dev tokens); true refuses a token without the scope claim', async () => {
    const noTenant = await signDevToken(SECRET, { sub: 'acme', expiresIn: 60 });
    expect(await authenticate(noTenant)).toMatchObject({ userId: 'acme', scopeId: 'acme' });
    const strict = jwtAuthenticator({ secret: SECRET, requireScopeClaim: true });
    expect(await strict(noTenant)).toBeNull();
    expect(
      await strict(await signDevToken(SECRET, { sub: 'acme', tenant: 't1', expiresIn: 60 })),
    ).toMatchObject({ userId: 'acme', scopeId: 't1' });
  });
});

for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    describe('JWT over tRPC', () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startServer(await storeCase.create());
      });
      afterAll(() => server?.close());

      const tokens: [string, () => Promise<string | null>][] = [
        ['missing', async () => null],
        ['malformed', async () => 'abc.def'],
        [
          'forged',
          async () =>
            signDevToken('wrong-secret-wrong-secret-wrong!', {
              sub: 'alice',
              tenant: 'acme',
              expiresIn: 60,
            }),
        ],
        [
          'alg none',
          async () => `${enc({ alg: 'none' })}.${enc({ sub: 'alice', tenant: 'acme', exp: 9e9 })}.`,
        ],
        [
          'expired',
          async () => signDevToken(SECRET, { sub: 'alice', tenant: 'acme', expiresIn: -5 }),
        ],
        // Signed, but the claims are not ids: a lone surrogate (PostgreSQL would store U+FFFD), NUL, C1, overlong.
        [
          'lone-surrogate tenant',
          async () => signDevToken(SECRET, { sub: 'alice', tenant: 'acme\ud800', expiresIn: 60 }),
        ],
        [
          'NUL tenant',
          async () => signDevToken(SECRET, { sub: 'alice', tenant: 'ac\u0000me', expiresIn: 60 }),
        ],
        [
          'C1 control user',
          async () => signDevToken(SECRET, { sub: 'ali\u009bce', tenant: 'acme', expiresIn: 60 }),
        ],
        [
          'overlong tenant',
          async () =>
            signDevToken(SECRET, { sub: 'alice', tenant: 'a'.repeat(257), expiresIn: 60 }),
        ],
      ];
      it.each(tokens)('answers UNAUTHORIZED for a %s token', async (_what, make) => {
        const client = server.client(await make());
        await expect(client.trpc.sync.pull.query({})).rejects.toMatchObject({
          data: { code: 'UNAUTHORIZED', sync: { code: 'UNAUTHORIZED' } },
        });
      });

      it('accepts a good token and confines it to its tenant', async () => {
        const acme = server.client(await server.token('alice', 'acme'));
        await acme.trpc.sync.push.mutate({
          clientId: 'c',
          changes: [
            { mutationId: 1, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'hi' } },
          ],
        });
        expect((await acme.trpc.sync.pull.query({})).changes).toHaveLength(1);
        const alone = server.client(await server.token('alice')); // scope defaults to the user
        expect((await alone.trpc.sync.pull.query({})).changes).toHaveLength(0);
      });
    });
  });
}
