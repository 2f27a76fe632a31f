/**
 * The token → actor rule of every face, written once: the same answer whether the hook is sync or
 * async.
 */
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import { checkActor } from '../auth/actor.js';
import type { Authenticate } from '../auth/authenticate.js';
import { reportOnce, type OnUnexpectedError } from './request-id.js';

/** The token of an `Authorization: Bearer <token>` header (the first when repeated), or null. */
export function bearerToken(header: string | string[] | null | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return m ? m[1]! : null;
}

/**
 * Runs the hook and applies the rule: an actor with well-formed claims (`checkActor`) passes;
 * `null` is UNAUTHORIZED (401); a thrown `SyncError` keeps its code (a hook may refuse with
 * FORBIDDEN, 403); any other throw, synchronous or not, is UNAUTHORIZED and reported once to
 * `report` (a lookup that failed is the server's problem, logged, but never lets the caller in).
 */
export async function authenticateToken(
  authenticate: Authenticate,
  token: string | null,
  report?: OnUnexpectedError,
): Promise<Actor> {
  let actor: Actor | null;
  try {
    actor = await authenticate(token);
  } catch (error) {
    if (SyncError.is(error)) throw error;
    if (report) reportOnce(report, 'authenticate', error);
    actor = null;
  }
  actor = checkActor(actor);
  if (!actor || typeof actor.scopeId !== 'string' || typeof actor.userId !== 'string') {
    const message = token
      ? 'invalid or expired token'
      : 'missing bearer token (Authorization: Bearer <token>)';
    throw new SyncError('UNAUTHORIZED', message);
  }
  return actor;
}

/**
 * The rule for a context that may hold no actor (a tRPC context also serving public procedures):
 * the actor, or null for a refusal answered 401 later (no token, a bad one, a failed lookup);
 * a `SyncError` other than UNAUTHORIZED (e.g. FORBIDDEN) is thrown, so its status wins.
 */
export async function optionalActor(
  authenticate: Authenticate,
  token: string | null,
  report?: OnUnexpectedError,
): Promise<Actor | null> {
  try {
    return await authenticateToken(authenticate, token, report);
  } catch (error) {
    if (SyncError.is(error) && error.code === 'UNAUTHORIZED') return null;
    throw error;
  }
}
