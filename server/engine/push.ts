/**
 * Push: applies a batch of changes in one store transaction. The scope's lock is taken first and
 * the commit gets exactly one seq (head + 1), so seq order is commit order and a pull never sees
 * part of a push. Mutation ids make retries idempotent: a change at or below the client's last
 * applied id is answered `duplicate` with its recorded outcome.
 */
import type { PushResult } from '../../shared/protocol.js';
import type { OplogEntry, RecordedOutcome, StoredDoc, StoreTx } from '../stores/store.js';
import { applyOne, type ApplyContext, type StampedChange } from './apply.js';
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
  return { data: { ...(doc.data ?? {}) }, fields: { ...doc.fields }, deleted: doc.deleted, exists: true };
}

function duplicateOf(change: StampedChange, original: RecordedOutcome | undefined): PushResult {
  const result: PushResult = { mutationId: change.mutationId, collection: change.collection, id: change.id, status: 'duplicate' };
  if (original && original.status !== 'duplicate') {
    result.original = original.status;
    if (original.version !== undefined) result.version = original.version;
    if (original.doc !== undefined) result.doc = original.doc;
    if (original.error !== undefined) result.error = original.error;
  }
  return result;
}

/** The part of a result a retry is answered with (the retry names its own collection and id). */
function outcomeOf(result: PushResult): RecordedOutcome {
  const outcome: RecordedOutcome = { status: result.status };
  if (result.version !== undefined) outcome.version = result.version;
  if (result.doc !== undefined) outcome.doc = result.doc;
  if (result.error !== undefined) outcome.error = result.error;
  return outcome;
}

/**
 * Runs one batch inside `tx`. `clientId` null (server-side writes) skips the mutation ledger.
 * Re-runnable: it only reads and writes through `tx`, so a store may retry it.
 */
export async function applyBatch(ctx: ApplyContext, tx: StoreTx, clientId: string | null, changes: StampedChange[]): Promise<BatchOutcome> {
  const last = clientId === null ? 0 : await tx.lastMutationId(clientId);
  const fresh = clientId === null ? changes : changes.filter((c) => c.mutationId > last);
  const retried = clientId === null ? [] : changes.filter((c) => c.mutationId <= last);
  const originals = retried.length > 0 ? await tx.getResults(clientId!, retried.map((c) => c.mutationId)) : new Map<number, RecordedOutcome>();

  const keys = new Map<string, { collection: string; id: string }>();
  for (const c of fresh) keys.set(keyOf(c.collection, c.id), { collection: c.collection, id: c.id });
  const stored = keys.size > 0 ? await tx.getDocs([...keys.values()]) : [];
  const states = new Map<string, DocState>();
  for (const doc of stored) states.set(keyOf(doc.collection, doc.id), toState(doc));

  const byMutation = new Map<number, PushResult>();
  const changed = new Map<string, { collection: string; id: string; state: DocState }>();
  const entries: Omit<OplogEntry, 'seq' | 'at'>[] = [];
  for (const change of fresh) {
    const key = keyOf(change.collection, change.id);
    const before = states.get(key) ?? emptyState();
    const { result, after } = await applyOne(ctx, change, before);
    byMutation.set(change.mutationId, result);
    if (result.status === 'rejected' || sameState(before, after)) continue;
    states.set(key, after);
    changed.set(key, { collection: change.collection, id: change.id, state: after });
    entries.push({
      scope: ctx.scope,
      idx: entries.length,
      collection: change.collection,
      id: change.id,
      op: after.deleted ? 'delete' : 'upsert',
      data: after.deleted ? null : { ...after.data },
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
    await tx.setHead(seq);
  }
  if (clientId !== null && fresh.length > 0) {
    const records = fresh.map((c) => ({ mutationId: c.mutationId, result: outcomeOf(byMutation.get(c.mutationId)!) }));
    await tx.recordResults(clientId, Math.max(last, ...fresh.map((c) => c.mutationId)), records, at);
  }
  const results = changes.map((c) => byMutation.get(c.mutationId) ?? duplicateOf(c, originals.get(c.mutationId)));
  return { results, seq };
}
