/**
 * `POST /sync/push` of the fastapi-offline-sync face. Its clients send no mutation ids, so the
 * engine numbers their changes (`numbering: 'server'`): the same `client_id` sending the same
 * changes again (a retry after a lost response) is answered with the first outcome and applied
 * once. Only a repeat
 * of the client's last push is a retry: the same content after other pushes of the client is a new
 * write (a task ticked, unticked and ticked again stays ticked).
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
 * The ledger client id of a compat client: a digest of the pushing user and `client_id` (which may
 * be longer than our client ids). The user is in the key, so another user sending the same
 * `client_id` has a ledger of its own and can never make this one's pushes answer `duplicate`.
 */
export function ledgerClientId(body: Pick<CompatPushBody, 'client_id'>, userId: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([userId, body.client_id]));
  return `fos.${hash.digest('base64url')}`;
}

/** Our push input for a compat body: `parent_version` becomes `baseVersion`, the batch is atomic; the ids are placeholders (the engine numbers the changes). */
export function toPushInput(
  body: CompatPushBody,
  userId: string,
): { clientId: string; atomic: true; changes: ChangeInput[] } {
  return {
    clientId: ledgerClientId(body, userId),
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

const RENAMES: Record<string, string> = {
  id: 'doc_id',
  op: 'operation',
  baseVersion: 'parent_version',
  clientId: 'client_id',
};

/** Names fields as the compat client sent them (`changes.0.doc_id`, not `changes.0.id`). */
function renamePath(path: string): string {
  return path
    .split('.')
    .map((part, i, all) =>
      (i === 2 && all[0] === 'changes') || (i === 0 && part === 'clientId')
        ? (RENAMES[part] ?? part)
        : part,
    )
    .join('.');
}

function renamed(error: SyncError): SyncError {
  const issues: SyncIssue[] = error.issues.map((i) => ({ ...i, path: renamePath(i.path) }));
  let message = error.message;
  for (const i of error.issues)
    if (i.path) message = message.split(i.path).join(renamePath(i.path));
  return new SyncError(
    error.code,
    message,
    issues,
    error.retryAfterMs === undefined ? undefined : { retryAfterMs: error.retryAfterMs },
  );
}

/**
 * Handles one push: validate the compat body, hand it to `engine.push`, answer `{ results }`.
 * `hideData` (per-user visibility): conflict answers carry no `data`, since the stored document
 * may still be another user's; the client gets it on its next pull if it is its own.
 */
export async function handleCompatPush(
  engine: SyncEngine,
  actor: Actor,
  req: Request,
  maxBodyBytes: number,
  hideData = false,
): Promise<Response> {
  const raw = await readJsonBody(req, maxBodyBytes);
  // On the raw body, as every face does: zod's record parse drops an own `__proto__` key unseen.
  checkPushShape(raw, engine.limits.maxDepth);
  const parsed = compatPushBody.safeParse(raw);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues);
    throw new SyncError(
      'BAD_REQUEST',
      `invalid push request: ${issues[0]?.path || '(root)'}: ${issues[0]?.message}`,
      issues,
    );
  }
  for (const [i, c] of parsed.data.changes.entries()) {
    if (c.operation === 'upsert' && (c.data === undefined || c.data === null)) {
      throw new SyncError('BAD_REQUEST', `changes.${i}.data: an upsert needs data`, [
        { path: `changes.${i}.data`, message: 'required for upsert' },
      ]);
    }
  }
  try {
    const res = await engine.push(actor, toPushInput(parsed.data, actor.userId), {
      numbering: 'server',
    });
    const results = res.results.map(toCompatResult);
    if (hideData) for (const r of results) delete r.data;
    return jsonResponse(200, { results });
  } catch (error) {
    throw SyncError.is(error) ? renamed(error) : error;
  }
}
