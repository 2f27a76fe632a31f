/**
 * Integrity checksums per view: at a view pull's last page the server sends the checksum of the
 * view's documents at that checkpoint (computed on demand, see docs/client.md "Integrity
 * checksums"); the client sums the server states of the documents it holds for that view and, when
 * the two differ, rebuilds that view alone (`full({ view })` and its sweep), emits `integrity`
 * with the view's key and counts it in `diagnostics().integrity`.
 */
import { addSum, checksumHex } from '../shared/checksum.js';
import { isBehind } from './checkpoint-order.js';
import { localHash, type IntegrityMismatch } from './integrity.js';
import type { TransferContext } from './transfer.js';
import { rebuildView } from './view-sync.js';

/**
 * Compares view `key`'s local checksum with the server's `checksums` at `checkpoint` and repairs
 * the view on a mismatch; returns the number of documents the repair applied (0 when none ran).
 * Not compared (checked at a later checkpoint): a view that moved on or is being rebuilt, pending
 * local writes in its collection, another view or the default request holding a newer checkpoint
 * (one of them may have brought a newer copy of a document of this view), or push answers taken
 * since the page was asked for (`settles`: `Integrity.settles` then; they may have, too).
 */
export async function checkView(
  ctx: TransferContext,
  key: string,
  checkpoint: string,
  checksums: Record<string, string> | undefined,
  settles: number,
): Promise<number> {
  const integrity = ctx.replica.integrity;
  // A push answered while the page was read may have moved a document of the view past the page's checkpoint.
  if (!integrity || !checksums || integrity.settles !== settles) return 0;
  const { replica } = ctx;
  const mismatch = await replica.exclusive(async (): Promise<IntegrityMismatch | null> => {
    const views = (await replica.store.getMeta('views')) ?? {};
    const view = views[key];
    if (!view || view.leaving || view.rebuild || view.checkpoint !== checkpoint) return null;
    const collection = view.collection ?? Object.keys(checksums)[0];
    const expected = collection === undefined ? undefined : checksums[collection];
    if (collection === undefined || expected === undefined) return null;
    const others = [
      await replica.store.getMeta('checkpoint'),
      ...Object.entries(views).flatMap(([k, v]) => (k === key ? [] : [v.checkpoint])),
    ];
    if (others.some((cp) => cp !== null && isBehind(checkpoint, cp))) return null;
    if ((await replica.store.listOutbox({ collection, limit: 1 })).length > 0) return null;
    let sum = 0n;
    let after: string | undefined;
    for (;;) {
      const docs = await replica.store.listDocs(collection, { after, limit: 500 });
      for (const doc of docs) if (doc.views?.[key] !== undefined) sum = addSum(sum, localHash(doc));
      if (docs.length < 500) break;
      after = docs.at(-1)!.id;
    }
    integrity.counters.checks++;
    integrity.viewChecked(key);
    const actual = checksumHex(sum);
    if (actual === expected) return null;
    integrity.counters.mismatches++;
    return { collection, expected, actual, checkpoint };
  });
  if (!mismatch) return 0;
  if (!integrity.mayRepair(`view:${key}`)) {
    ctx.events.emit('integrity', { ...mismatch, view: key, repaired: null, reason: 'deferred' });
    return 0;
  }
  integrity.counters.repairs++;
  let repaired: number;
  try {
    repaired = await rebuildView(ctx, key);
  } catch (error) {
    ctx.events.emit('integrity', { ...mismatch, view: key, repaired: null, reason: 'failed' });
    throw error;
  }
  ctx.events.emit('integrity', { ...mismatch, view: key, repaired });
  return repaired;
}
