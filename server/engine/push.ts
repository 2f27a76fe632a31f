/**
 * Push: applies a batch of changes in one store transaction. The scope's lock is taken first and
 * the commit gets exactly one seq (head + 1), so seq order is commit order and a pull never sees
 * part of a push. Mutation ids make retries idempotent: a change at or below the client's last
 * recorded id is answered `duplicate` with its recorded outcome — only when the ledger holds the
 * same change (its digest) and the ledger belongs to the pushing user; anything else refuses the
 * whole push with CLIENT_ID_CONFLICT, so no answer makes a device drop a write never recorded.
 */
import { SyncError, badRequest, type SyncIssue } from '../../shared/errors.js';
import type { PushResult } from '../../shared/protocol.js';
import type { OplogEntry, RecordedOutcome, StoredDoc, StoreTx } from '../stores/store.js';
import { BEFORE_WRITER_KEY, WRITER_FIELD } from '../stores/store.js';
import { applyOne, type ApplyContext, type StampedChange } from './apply.js';
import { checksumDeltas } from './checksums.js';
import { emptyState, sameState, versionOf, type DocState } from './merge.js';

/** The outcome of one committed batch. */
export interface BatchOutcome {
  results: PushResult[];
  /** The commit's seq, or null when nothing changed. */
  seq: number | null;
}

const keyOf = (collection: string, id: string) => `${collection}\u0000${id}`;

function toState(doc: StoredDoc | undefined): DocState {
  if (!doc) return emptyState();
  return {
    data: { ...(doc.data ?? {}) },
    fields: { ...doc.fields },
    deleted: doc.deleted,
    exists: true,
  };
}

function duplicateOf(change: StampedChange, original: RecordedOutcome | undefined): PushResult {
  const result: PushResult = {
    mutationId: change.mutationId,
    collection: change.collection,
    id: change.id,
    status: 'duplicate',
  };
  if (original && original.status !== 'duplicate') {
    result.original = original.status;
    if (original.version !== undefined) result.version = original.version;
    if (original.doc !== undefined) result.doc = original.doc;
    if (original.error !== undefined) result.error = original.error;
  }
  return result;
}

/** The part of a result a retry is answered with (the retry names its own collection and id), with the change's digest. */
function outcomeOf(result: PushResult, digest: string | undefined): RecordedOutcome {
  const outcome: RecordedOutcome = { status: result.status };
  if (digest !== undefined) outcome.digest = digest;
  if (result.version !== undefined) outcome.version = result.version;
  if (result.doc !== undefined) outcome.doc = result.doc;
  if (result.error !== undefined) outcome.error = result.error;
  return outcome;
}

/** What the ledger says of a push: the client's last recorded id and the recorded outcomes of its retried changes. */
export interface LedgerCheck {
  last: number;
  originals: Map<number, RecordedOutcome>;
}

/**
 * Checks a push against its client id's ledger, before anything is applied: the ledger must be the
 * pushing user's (or nobody's yet), ids may not jump more than `maxMutationIdGap` past the last
 * recorded one, and every id at or below it must hold the same change (same digest). Throws
 * CLIENT_ID_CONFLICT (with the ids that are recorded as these very changes) or BAD_REQUEST.
 */
export async function checkLedger(
  ctx: ApplyContext,
  tx: StoreTx,
  clientId: string,
  changes: readonly StampedChange[],
): Promise<LedgerCheck> {
  const ledger = await tx.clientLedger(clientId);
  if (ledger.owner !== null && ledger.owner !== ctx.actor.userId) {
    throw new SyncError(
      'CLIENT_ID_CONFLICT',
      `client id "${clientId}" belongs to another user: take a new client id and re-send (nothing was applied)`,
      [{ path: 'clientId', message: 'in use by another user' }],
      { recorded: [] },
    );
  }
  const last = ledger.lastMutationId;
  const gap = ctx.maxMutationIdGap;
  const tooFar = changes.findIndex((c) => c.mutationId - last > gap);
  if (tooFar >= 0) {
    const message = `more than limits.maxMutationIdGap (${gap}) past the last mutation id recorded for this client (${last})`;
    throw badRequest([{ path: `changes.${tooFar}.mutationId`, message }], 'invalid push request');
  }
  const retried = changes.filter((c) => c.mutationId <= last);
  const originals =
    retried.length > 0
      ? await tx.getResults(
          clientId,
          retried.map((c) => c.mutationId),
        )
      : new Map<number, RecordedOutcome>();
  const issues: SyncIssue[] = [];
  const recorded: number[] = [];
  changes.forEach((c, i) => {
    if (c.mutationId > last) return;
    const original = originals.get(c.mutationId);
    // No outcome under an id at or below the last one: pruned, or another device's; re-sending under a new id loses nothing.
    if (original === undefined)
      issues.push({
        path: `changes.${i}.mutationId`,
        message: `no change is recorded under this id, below the client's last (${last})`,
      });
    // Outcomes recorded before digests were kept are taken as the same change.
    else if (original.digest !== undefined && original.digest !== c.digest)
      issues.push({
        path: `changes.${i}.mutationId`,
        message: 'a different change is recorded under this id',
      });
    else recorded.push(c.mutationId);
  });
  if (issues.length > 0) {
    throw new SyncError(
      'CLIENT_ID_CONFLICT',
      `client id "${clientId}" has other changes recorded under ${issues.length === 1 ? 'a mutation id' : `${issues.length} mutation ids`} of this push (${issues[0]!.path}: ${issues[0]!.message}): the device's data was copied from another device; take a new client id and re-send (nothing was applied)`,
      issues,
      { recorded },
    );
  }
  return { last, originals };
}

/**
 * Server numbering (`PushOptions.numbering`): the changes get the ids after the client's last
 * recorded one, or, when they are exactly the client's last push again (same digests, in order),
 * that push's ids, so the ledger answers them as its retry.
 */
async function numberChanges(
  ctx: ApplyContext,
  tx: StoreTx,
  clientId: string,
  changes: StampedChange[],
): Promise<StampedChange[]> {
  const { last } = await checkLedger(ctx, tx, clientId, []);
  const n = changes.length;
  let first = last + 1;
  if (n > 0 && last >= n) {
    const tail = await tx.getResults(
      clientId,
      changes.map((_, i) => last - n + 1 + i),
    );
    if (changes.every((c, i) => tail.get(last - n + 1 + i)?.digest === c.digest))
      first = last - n + 1;
  }
  return changes.map((c, i) => ({ ...c, mutationId: first + i }));
}

/**
 * The pre-image an oplog entry keeps (read rules judge moves by it), or nothing for unruled
 * collections. `_sync_writer` in it is the previous writer (`writer`): always kept with a whole
 * pre-image, and when a rule declares `$writer`.
 */
function preImageOf(
  ctx: ApplyContext,
  collection: string,
  before: DocState,
  writer: string | undefined,
): { before?: Record<string, unknown> | null } {
  if (!ctx.preImage?.has(collection)) return {};
  if (!before.exists || before.deleted) return { before: null };
  const fields = ctx.preImage.get(collection);
  if (!fields)
    return {
      before:
        writer === undefined ? { ...before.data } : { ...before.data, [BEFORE_WRITER_KEY]: writer },
    };
  const kept: Record<string, unknown> = {};
  for (const f of fields) {
    if (f === WRITER_FIELD) {
      if (writer !== undefined) kept[BEFORE_WRITER_KEY] = writer;
    } else if (Object.hasOwn(before.data, f)) kept[f] = before.data[f];
  }
  return { before: kept };
}

/**
 * Runs one batch inside `tx`. `clientId` null (server-side writes) skips the mutation ledger.
 * Re-runnable: it only reads and writes through `tx`, so a store may retry it.
 */
export async function applyBatch(
  ctx: ApplyContext,
  tx: StoreTx,
  clientId: string | null,
  changes: StampedChange[],
  numbering: 'client' | 'server' = 'client',
): Promise<BatchOutcome> {
  if (numbering === 'server' && clientId !== null)
    changes = await numberChanges(ctx, tx, clientId, changes);
  const { last, originals } =
    clientId === null
      ? { last: 0, originals: new Map<number, RecordedOutcome>() }
      : await checkLedger(ctx, tx, clientId, changes);
  const fresh = clientId === null ? changes : changes.filter((c) => c.mutationId > last);

  const keys = new Map<string, { collection: string; id: string }>();
  for (const c of fresh)
    keys.set(keyOf(c.collection, c.id), { collection: c.collection, id: c.id });
  const stored = keys.size > 0 ? await tx.getDocs([...keys.values()]) : [];
  const states = new Map<string, DocState>();
  for (const doc of stored) states.set(keyOf(doc.collection, doc.id), toState(doc));
  // The last writer of each document, for pre-images (`$writer`).
  const writers = new Map<string, string>();
  for (const doc of stored) writers.set(keyOf(doc.collection, doc.id), doc.actor);

  const byMutation = new Map<number, PushResult>();
  const changed = new Map<string, { collection: string; id: string; state: DocState }>();
  const entries: Omit<OplogEntry, 'seq' | 'at'>[] = [];
  for (const change of fresh) {
    const key = keyOf(change.collection, change.id);
    const before = states.get(key) ?? emptyState();
    const { result, after } = await applyOne(ctx, change, before);
    byMutation.set(change.mutationId, result);
    if (result.status === 'rejected' || sameState(before, after)) continue;
    const previousWriter = writers.get(key);
    states.set(key, after);
    writers.set(key, ctx.actor.userId);
    changed.set(key, { collection: change.collection, id: change.id, state: after });
    entries.push({
      scope: ctx.scope,
      idx: entries.length,
      collection: change.collection,
      id: change.id,
      op: after.deleted ? 'delete' : 'upsert',
      data: after.deleted ? null : { ...after.data },
      ...preImageOf(ctx, change.collection, before, previousWriter),
      version: versionOf(after),
      actor: ctx.actor.userId,
      clientId,
      mutationId: clientId === null ? null : change.mutationId,
    });
  }

  const at = new Date();
  let seq: number | null = null;
  if (entries.length > 0) {
    // seq is taken inside the transaction, under the scope lock: seq order is commit order.
    seq = tx.head.seq + 1;
    const docs: StoredDoc[] = [...changed.values()].map(({ collection, id, state }) => ({
      scope: ctx.scope,
      collection,
      id,
      data: state.data,
      fields: state.fields,
      version: versionOf(state),
      seq: seq!,
      deleted: state.deleted,
      actor: ctx.actor.userId,
    }));
    await tx.putDocs(docs);
    await tx.appendOplog(entries.map((e) => ({ ...e, seq: seq!, at })));
    // Integrity checksums: kept in this same transaction, from each document's state before and after
    // (before setHead, so a store may write them with the head).
    if (ctx.integrity !== false && tx.addChecksums)
      await tx.addChecksums(checksumDeltas(stored, docs), seq);
    await tx.setHead(seq);
  }
  if (clientId !== null && fresh.length > 0) {
    const records = fresh.map((c) => ({
      mutationId: c.mutationId,
      result: outcomeOf(byMutation.get(c.mutationId)!, c.digest),
    }));
    await tx.recordResults(
      clientId,
      Math.max(last, ...fresh.map((c) => c.mutationId)),
      records,
      at,
      ctx.actor.userId,
    );
  }
  const results = changes.map(
    (c) => byMutation.get(c.mutationId) ?? duplicateOf(c, originals.get(c.mutationId)),
  );
  return { results, seq };
}
