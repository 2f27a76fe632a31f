/** Bearer-token authentication for the REST and WebSocket faces, over the shared `authenticate` hook. */
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import { checkActor } from '../auth/actor.js';
import type { Authenticate } from '../auth/authenticate.js';

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null): string | null {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1]! : null;
}

/**
 * Runs the hook; a null answer or a thrown non-SyncError is UNAUTHORIZED (a hook may throw its
 * own SyncError, e.g. FORBIDDEN, which is kept), and so is an actor whose claims are malformed
 * (`checkActor`: empty, over 256 units, control characters, lone surrogates).
 */
export async function authenticateToken(authenticate: Authenticate, token: string | null): Promise<Actor> {
  let actor: Actor | null;
  try {
    actor = await authenticate(token);
  } catch (error) {
    if (SyncError.is(error)) throw error;
    actor = null;
  }
  actor = checkActor(actor);
  if (!actor || typeof actor.scopeId !== 'string' || typeof actor.userId !== 'string') {
    throw new SyncError('UNAUTHORIZED', token ? 'invalid or expired token' : 'missing bearer token (Authorization: Bearer <token>)');
  }
  return actor;
}
