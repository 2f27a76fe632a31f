/**
 * The one check every actor passes where it enters a face, whatever hook made it (ours or the
 * app's): claims are checked like ids, so `"S\ud800"` and `"S\ufffd"` can never share a scope.
 */
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import { MAX_CLAIM_LENGTH, badNameReason } from '../../shared/text.js';
import type { Authenticate } from './authenticate.js';

export { MAX_CLAIM_LENGTH };

/**
 * Returns `actor` when its `userId` and `scopeId` are well-formed claims (non-empty strings of at
 * most `MAX_CLAIM_LENGTH` UTF-16 units, no control characters, no lone surrogates), `null` for a
 * null/undefined actor; throws UNAUTHORIZED (401) for anything else.
 */
export function checkActor(actor: Actor | null | undefined): Actor | null {
  if (actor === null || actor === undefined) return null;
  if (typeof actor !== 'object')
    throw new SyncError(
      'UNAUTHORIZED',
      'invalid credentials: the authenticate hook answered no actor',
    );
  for (const claim of ['userId', 'scopeId'] as const) {
    const why = badNameReason(actor[claim], MAX_CLAIM_LENGTH);
    if (why !== null)
      throw new SyncError('UNAUTHORIZED', `invalid credentials: the ${claim} claim ${why}`);
  }
  return actor;
}

/**
 * `authenticate` with every answer passed through `checkActor`: a malformed actor is refused
 * (thrown UNAUTHORIZED) like a bad token. `createSyncHttpServer` wraps the app's hook with it once,
 * so every face it serves gets the check.
 */
export function checkedAuthenticate(authenticate: Authenticate): Authenticate {
  return async (token) => checkActor(await authenticate(token));
}
