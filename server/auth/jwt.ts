/** HS256 JWT authentication (via `jose`): bearer token → actor, plus a helper that signs development tokens. */
import { SignJWT, jwtVerify } from 'jose';
import type { Actor } from '../../shared/protocol.js';
import type { Authenticate } from './authenticate.js';

/** Options of `jwtAuthenticator`. */
export interface JwtAuthenticatorOptions {
  /** The shared HS256 secret (at least 32 characters recommended). */
  secret: string | Uint8Array;
  /** Claim holding the scope (tenant) id; when absent the scope is the user (`sub`). @default 'tenant' */
  scopeClaim?: string;
  /** Leeway for `exp`/`nbf` checks, in seconds. @default 0 */
  clockToleranceSec?: number;
}

function keyOf(secret: string | Uint8Array): Uint8Array {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (key.length === 0) throw new Error('jwt: the secret must not be empty');
  return key;
}

/**
 * An `Authenticate` hook for HS256 JWTs: `sub` → `userId`, the scope claim → `scopeId` (default:
 * the `sub`). Missing, malformed, forged, unsigned (`alg: none`) or expired tokens give `null`.
 *
 * @example
 * const authenticate = jwtAuthenticator({ secret: process.env.SYNC_JWT_SECRET! });
 * await authenticate(token); // { userId: 'alice', scopeId: 'acme' } or null
 */
export function jwtAuthenticator(options: JwtAuthenticatorOptions): Authenticate {
  const key = keyOf(options.secret);
  const scopeClaim = options.scopeClaim ?? 'tenant';
  const clockTolerance = options.clockToleranceSec ?? 0;
  return async (token: string | null): Promise<Actor | null> => {
    if (!token) return null;
    try {
      // Only HS256 is accepted, so `alg: none` and algorithm-confusion tokens fail here.
      const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], clockTolerance });
      const sub = payload.sub;
      const scope = payload[scopeClaim] ?? sub;
      if (typeof sub !== 'string' || sub === '' || typeof scope !== 'string' || scope === '') return null;
      return { userId: sub, scopeId: scope };
    } catch {
      return null;
    }
  };
}

/** Claims and lifetime of a development token. */
export interface DevTokenOptions {
  sub: string;
  /** Scope id, written to the `tenant` claim. */
  tenant?: string;
  /** Lifetime: seconds, or a `jose` time span such as `'24h'`. @default '24h' */
  expiresIn?: number | string;
}

/**
 * Signs an HS256 token for development and tests.
 *
 * @example
 * const token = await signDevToken(secret, { sub: 'alice', tenant: 'acme', expiresIn: '24h' });
 */
export async function signDevToken(secret: string | Uint8Array, options: DevTokenOptions): Promise<string> {
  const expiresIn = options.expiresIn ?? '24h';
  const now = Math.floor(Date.now() / 1000);
  const claims = options.tenant === undefined ? {} : { tenant: options.tenant };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt(now)
    // jose reads a number as an absolute time, so a lifetime in seconds is added to now.
    .setExpirationTime(typeof expiresIn === 'number' ? now + expiresIn : expiresIn)
    .sign(keyOf(secret));
}
