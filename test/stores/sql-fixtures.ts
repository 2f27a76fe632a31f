// Fixtures for the SQL store's own tests: records to write and a commit helper.
import type { OplogEntry, Store, StoredDoc } from '../../server/stores/store.js';

/** A stored document of `scope` at `seq`. */
export function doc(
  scope: string,
  collection: string,
  id: string,
  seq: number,
  data: Record<string, unknown> | null = { n: seq },
): StoredDoc {
  const version = `20260101T000000.000Z-${seq.toString(16).padStart(4, '0')}-test`;
  return {
    scope,
    collection,
    id,
    data,
    fields: { n: version },
    version,
    seq,
    deleted: data === null,
    actor: 'u1',
  };
}

/** The oplog entry matching `doc()`. */
export function entry(d: StoredDoc, idx = 0, at = new Date()): OplogEntry {
  return {
    scope: d.scope,
    seq: d.seq,
    idx,
    collection: d.collection,
    id: d.id,
    op: d.deleted ? 'delete' : 'upsert',
    data: d.data,
    version: d.version,
    actor: d.actor,
    clientId: 'c1',
    mutationId: d.seq,
    at,
  };
}

/** Commits one change per doc as the scope's next seq; returns that seq. */
export async function commit(
  store: Store,
  scope: string,
  docs: Array<[collection: string, id: string, data?: Record<string, unknown> | null]>,
  at?: Date,
): Promise<number> {
  return store.transaction(scope, async (tx) => {
    const seq = tx.head.seq + 1;
    const stored = docs.map(([c, id, data]) =>
      doc(scope, c, id, seq, data === undefined ? { n: seq } : data),
    );
    await tx.putDocs(stored);
    await tx.appendOplog(stored.map((d, i) => entry(d, i, at)));
    await tx.setHead(seq);
    return seq;
  });
}

/** Resolves when `predicate` holds, polling; rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}
