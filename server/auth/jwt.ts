/** JWT authentication on `jose`: HS256 secrets, JWKS URLs and PEM public keys (RS/PS/ES/EdDSA), iss/aud checks, claim mapping. */
import { createPublicKey } from 'node:crypto';
import {
  SignJWT,
  createRemoteJWKSet,
  importSPKI,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Actor } from '../../shared/protocol.js';
import type { Authenticate } from './authenticate.js';

/** Algorithms accepted from a JWKS when `algorithms` is not given (never HMAC: a JWKS holds public keys). */
export const JWKS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** Options of `jwtAuthenticator`. Give at least one of `secret`, `jwksUrl`, `publicKey`. */
export interface JwtAuthenticatorOptions {
  /** Shared HS256 secret (at least 32 characters recommended). Only `alg: HS256` tokens are checked against it. */
  secret?: string | Uint8Array | null;
  /**
   * The identity provider's JWKS, e.g. `https://TENANT.auth0.com/.well-known/jwks.json`. Keys are
   * fetched on first use and cached; a token whose `kid` is not in the cached set triggers a refetch
   * (at most once per `jwksCooldownMs`), so rotated keys work and removed keys stop working.
   */
  jwksUrl?: string | URL | null;
  /** A PEM (SPKI, `-----BEGIN PUBLIC KEY-----`) public key: RSA, EC P-256/384/521 or Ed25519. */
  publicKey?: string | null;
  /** Accepted `alg` values for JWKS / public-key tokens. @default JWKS: `JWKS_ALGORITHMS`; PEM: the key type's algorithms */
  algorithms?: string[];
  /** Required `iss` (one, or any of several). @default not checked */
  issuer?: string | string[] | null;
  /** Required `aud` (the token must name one of these). @default not checked */
  audience?: string | string[] | null;
  /** Claim holding the user id (a top-level claim name, taken literally: `https://x.io/uid` works). @default 'sub' */
  userClaim?: string;
  /** Claim holding the scope (tenant) id; when absent the scope is the user id (unless `requireScopeClaim`). @default 'tenant' */
  scopeClaim?: string;
  /**
   * Refuse (401) a token without the scope claim, instead of taking the user id as its scope. With
   * an identity provider, a token minted for another purpose (`{ sub: "acme" }`, no tenant) would
   * otherwise read and write the scope named like its user. @default true when `jwksUrl` or
   * `publicKey` is given, false with only the HS256 `secret` (development tokens)
   */
  requireScopeClaim?: boolean;
  /** Leeway for `exp`/`nbf`/`iat` checks, in seconds. @default 0 */
  clockToleranceSec?: number;
  /** How long fetched JWKS keys are used before a refetch. @default 600_000 (10 min) */
  jwksCacheMaxAgeMs?: number;
  /** Minimum time between two JWKS fetches (unknown `kid`s within it fail). @default 30_000 */
  jwksCooldownMs?: number;
  /** JWKS fetch timeout. @default 5000 */
  jwksTimeoutMs?: number;
}

function keyOf(secret: string | Uint8Array): Uint8Array {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (key.length === 0) throw new Error('jwt: the secret must not be empty');
  return key;
}

/** The `alg` values a PEM public key can verify, from its key type (and curve). */
export function algorithmsForPublicKey(pem: string): string[] {
  let key;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new Error(`jwt: publicKey is not a PEM public key (${(error as Error).message})`, {
      cause: error,
    });
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return ['RS256', 'RS384', 'RS512'];
  if (type === 'rsa-pss') return ['PS256', 'PS384', 'PS512'];
  if (type === 'ed25519') return ['EdDSA', 'Ed25519'];
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const alg =
      curve === 'prime256v1'
        ? 'ES256'
        : curve === 'secp384r1'
          ? 'ES384'
          : curve === 'secp521r1'
            ? 'ES512'
            : null;
    if (alg) return [alg];
    throw new Error(`jwt: unsupported EC curve ${curve ?? '?'} (expected P-256, P-384 or P-521)`);
  }
  throw new Error(`jwt: unsupported public key type ${type ?? '?'} (expected RSA, EC or Ed25519)`);
}

/** A claim as an id: a non-empty string, or a safe integer (ids such as `business_id: 42`). */
function idClaim(payload: JWTPayload, name: string): string | null | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return null;
}

/**
 * An `Authenticate` hook for JWTs. HS256 tokens are checked against `secret`; other tokens against
 * the JWKS at `jwksUrl` or the PEM `publicKey`. The user claim (default `sub`) → `userId`, the scope
 * claim (default `tenant`; absent → the user id, or 401 with `requireScopeClaim`, the default with a
 * JWKS or public key) → `scopeId`. Missing, malformed, forged, unsigned
 * (`alg: none`), expired, wrong-issuer, wrong-audience or unknown-key tokens give `null` (401).
 *
 * @example
 * jwtAuthenticator({ secret: process.env.SYNC_JWT_SECRET! });
 * jwtAuthenticator({ jwksUrl: 'https://example.auth0.com/.well-known/jwks.json', issuer: 'https://example.auth0.com/', audience: 'sync-api' });
 * jwtAuthenticator({ publicKey: pem, userClaim: 'user_id', scopeClaim: 'business_id' });
 */
export function jwtAuthenticator(options: JwtAuthenticatorOptions): Authenticate {
  const secret = options.secret ? keyOf(options.secret) : null;
  if (options.jwksUrl && options.publicKey)
    throw new Error('jwt: give either jwksUrl or publicKey, not both');
  let asymmetric: JWTVerifyGetKey | null = null;
  let algorithms: string[] = [];
  if (options.jwksUrl) {
    const url = new URL(options.jwksUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error(`jwt: jwksUrl must be an http(s) URL, got ${url.protocol}//`);
    asymmetric = createRemoteJWKSet(url, {
      cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
      timeoutDuration: options.jwksTimeoutMs ?? 5000,
    });
    algorithms = options.algorithms ?? [...JWKS_ALGORITHMS];
  } else if (options.publicKey) {
    const pem = options.publicKey;
    const keyAlgorithms = algorithmsForPublicKey(pem);
    algorithms = options.algorithms ?? keyAlgorithms;
    const keys = new Map<string, Promise<CryptoKey>>();
    asymmetric = async (header) => {
      const alg = header.alg ?? '';
      if (!keyAlgorithms.includes(alg)) throw new Error('algorithm does not match the public key');
      let key = keys.get(alg);
      if (!key) keys.set(alg, (key = importSPKI(pem, alg) as Promise<CryptoKey>));
      return key;
    };
  }
  if (!secret && !asymmetric) throw new Error('jwt: give a secret, a jwksUrl or a publicKey');
  if (algorithms.includes('HS256') || algorithms.some((a) => a.startsWith('HS')))
    throw new Error('jwt: HMAC algorithms are only accepted with `secret`');
  const allowed = [...(secret ? ['HS256'] : []), ...algorithms];
  const userClaim = options.userClaim ?? 'sub';
  const scopeClaim = options.scopeClaim ?? 'tenant';
  const requireScopeClaim = options.requireScopeClaim ?? asymmetric !== null;
  const verifyOptions = {
    // Only these are accepted, so `alg: none` and algorithm-confusion tokens (HS256 signed with a public key) fail.
    algorithms: allowed,
    clockTolerance: options.clockToleranceSec ?? 0,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256') {
      if (!secret) throw new Error('HS256 tokens are not accepted');
      return secret;
    }
    return asymmetric!(header, token);
  };
  return async (token: string | null): Promise<Actor | null> => {
    if (!token) return null;
    try {
      const { payload } = await jwtVerify(token, getKey, verifyOptions);
      const userId = idClaim(payload, userClaim);
      if (!userId) return null;
      const scope = idClaim(payload, scopeClaim);
      if (scope === null || (scope === undefined && requireScopeClaim)) return null;
      // expiresAt (the accepted exp, leeway included) lets live streams end when the token does.
      return {
        userId,
        scopeId: scope ?? userId,
        ...(typeof payload.exp === 'number'
          ? { expiresAt: (payload.exp + (options.clockToleranceSec ?? 0)) * 1000 }
          : {}),
      };
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
export async function signDevToken(
  secret: string | Uint8Array,
  options: DevTokenOptions,
): Promise<string> {
  const expiresIn = options.expiresIn ?? '24h';
  const now = Math.floor(Date.now() / 1000);
  const claims = options.tenant === undefined ? {} : { tenant: options.tenant };
  return (
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(options.sub)
      .setIssuedAt(now)
      // jose reads a number as an absolute time, so a lifetime in seconds is added to now.
      .setExpirationTime(typeof expiresIn === 'number' ? now + expiresIn : expiresIn)
      .sign(keyOf(secret))
  );
}
