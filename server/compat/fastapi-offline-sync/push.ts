/**
 * `POST /sync/push` of the fastapi-offline-sync face. Its clients send no mutation ids, so the
 * ledger key is derived from the request: the same `client_id` sending the same changes again (a
 * retry after a lost response) is answered with the first outcome and applied once.
 */
import { createHash } from 'node:crypto';
import { SyncError, issuesFromZod, type SyncIssue } from '../../../shared/errors.js';
import type { Actor, ChangeInput } from '../../../shared/protocol.js';
import { checkPushShape } from '../../engine/shape.js';
import type { SyncEngine } from '../../engine/types.js';
import { readJsonBody } from '../../rest/body.js';
import { jsonResponse } from '../../rest/errors.js';
import { compatPushBody, toCompatResult, type CompatPushBody } from './wire.js';

/**
 * The ledger client id of a push: a digest of `client_id` and its changes, in order. The engine's
 * ledger then treats a byte-for-byte retry as `duplicate` (mutation ids 1..n of that key).
 */
export function ledgerClientId(body: CompatPushBody): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([body.client_id, body.changes.map((c) => [c.collection, c.doc_id, c.operation, c.data ?? null, c.parent_version ?? null])]));
  return `fos.${hash.digest('base64url')}`;
}

/** Our push input for a compat body: `parent_version` becomes `baseVersion`, the batch is atomic. */
export function toPushInput(body: CompatPushBody): { clientId: string; atomic: true; changes: ChangeInput[] } {
  return {
    clientId: ledgerClientId(body),
    atomic: true,
    changes: body.changes.map((c, i) => ({
      mutationId: i + 1,
      collection: c.collection,
      id: c.doc_id,
      op: c.operation,
      data: c.operation === 'delete' ? null : (c.data ?? null),
      baseVersion: c.parent_version ?? null,
    })),
  };
}

const RENAMES: Record<string, string> = { id: 'doc_id', op: 'operation', baseVersion: 'parent_version', clientId: 'client_id' };

/** Names fields as the compat client sent them (`changes.0.doc_id`, not `changes.0.id`). */
function renamePath(path: string): string {
  return path
    .split('.')
    .map((part, i, all) => ((i === 2 && all[0] === 'changes') || (i === 0 && part === 'clientId') ? (RENAMES[part] ?? part) : part))
    .join('.');
}

function renamed(error: SyncError): SyncError {
  const issues: SyncIssue[] = error.issues.map((i) => ({ ...i, path: renamePath(i.path) }));
  let message = error.message;
  for (const i of error.issues) if (i.path) message = message.split(i.path).join(renamePath(i.path));
  return new SyncError(error.code, message, issues, error.retryAfterMs === undefined ? undefined : { retryAfterMs: error.retryAfterMs });
}

/** Handles one push: validate the compat body, hand it to `engine.push`, answer `{ results }`. */
export async function handleCompatPush(engine: SyncEngine, actor: Actor, req: Request): Promise<Response> {
  const raw = await readJsonBody(req, engine.limits.maxBodyBytes);
  // On the raw body, as every face does: zod's record parse drops an own `__proto__` key unseen.
  checkPushShape(raw, engine.limits.maxDepth);
  const parsed = compatPushBody.safeParse(raw);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues);
    throw new SyncError('BAD_REQUEST', `invalid push request: ${issues[0]?.path || '(root)'}: ${issues[0]?.message}`, issues);
  }
  for (const [i, c] of parsed.data.changes.entries()) {
    if (c.operation === 'upsert' && (c.data === undefined || c.data === null)) {
      throw new SyncError('BAD_REQUEST', `changes.${i}.data: an upsert needs data`, [{ path: `changes.${i}.data`, message: 'required for upsert' }]);
    }
  }
  try {
    const res = await engine.push(actor, toPushInput(parsed.data));
    return jsonResponse(200, { results: res.results.map(toCompatResult) });
  } catch (error) {
    throw SyncError.is(error) ? renamed(error) : error;
  }
}
