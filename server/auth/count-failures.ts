/** Wraps an `Authenticate` hook so every refused credential is reported once, with a coarse reason (for `sync_auth_failures_total`). */
import { decodeJwt } from 'jose';
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import type { Authenticate } from './authenticate.js';

/**
 * Why a credential was refused: `missing` (no token), `expired` (a JWT whose `exp` has passed),
 * `invalid` (any other refusal: bad signature, wrong issuer or audience, unknown key, not a JWT),
 * `error` (the hook threw something other than a `SyncError`, e.g. a lookup that failed).
 */
export type AuthFailureReason = 'missing' | 'expired' | 'invalid' | 'error';

/** A refused JWT is `expired` when its (unverified) `exp` has passed, else `invalid`. */
function refusalReason(token: string): AuthFailureReason {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && exp * 1000 <= Date.now() ? 'expired' : 'invalid';
  } catch {
    return 'invalid';
  }
}

/**
 * Returns `authenticate` with refusals reported to `onFailure`; answers and throws are passed
 * through unchanged. Wrap once where every face gets its hook (`createSyncHttpServer` does), so a
 * request or connection is counted once. The token itself is never passed on.
 *
 * @example
 * const authenticate = countAuthFailures(jwtAuthenticator({ secret }), metrics.authFailure);
 */
export function countAuthFailures(
  authenticate: Authenticate,
  onFailure: (reason: AuthFailureReason) => void,
): Authenticate {
  const report = (reason: AuthFailureReason) => {
    try {
      onFailure(reason);
    } catch {
      // a metrics hook must never change an authentication answer
    }
  };
  return async (token: string | null): Promise<Actor | null> => {
    let actor: Actor | null;
    try {
      actor = await authenticate(token);
    } catch (error) {
      report(!token ? 'missing' : SyncError.is(error) ? 'invalid' : 'error');
      throw error;
    }
    if (!actor) report(token ? refusalReason(token) : 'missing');
    return actor;
  };
}
