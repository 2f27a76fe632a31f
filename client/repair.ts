/**
 * Targeted repair: a collection whose local checksum disagreed with the server's at a checkpoint
 * is rebuilt alone from a full export filtered to it — documents re-fetched, those the export does
 * not hold dropped, the outbox and the checkpoint kept — then its checksum is recomputed.
 */
import type { FullPage } from '../shared/protocol.js';
import type { TransferContext } from './transfer.js';

/**
 * Repairs every collection with a mismatch found and not repaired yet (at most one repair per
 * collection per `minRepairIntervalMs`), emitting one `integrity` event each. Returns how many
 * documents the repairs changed.
 */
export async function repairMismatches(ctx: TransferContext): Promise<number> {
  const integrity = ctx.replica.integrity;
  if (!integrity) return 0;
  let total = 0;
  for (const [collection, mismatch] of [...integrity.pending]) {
    integrity.pending.delete(collection);
    if (!integrity.mayRepair(collection)) {
      ctx.events.emit('integrity', { ...mismatch, repaired: null, reason: 'deferred' });
      continue;
    }
    integrity.counters.repairs++;
    let repaired: number;
    try {
      repaired = await repairCollection(ctx, collection);
    } catch (error) {
      ctx.events.emit('integrity', { ...mismatch, repaired: null, reason: 'failed' });
      throw error;
    }
    total += repaired;
    ctx.events.emit('integrity', { ...mismatch, repaired });
  }
  return total;
}

/**
 * Rebuilds one collection from a full export filtered to it, keeping the checkpoint: the export's
 * checkpoint is at or after it (taken when the export starts, after every checkpoint this client
 * was given), so the next pull from the kept one re-applies whatever changed since — never a gap
 * for the other collections. Returns how many documents changed.
 */
export async function repairCollection(ctx: TransferContext, collection: string): Promise<number> {
  const { replica } = ctx;
  const mark = `i${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  replica.integrity?.marks.set(collection, mark);
  try {
    let changed = 0;
    let cursor: string | null = null;
    do {
      const after: string | null = cursor;
      const page: FullPage = await ctx.call(() =>
        ctx.api.full.query(
          ctx.versioned({ collections: [collection], cursor: after, limit: ctx.options.fullLimit }),
        ),
      );
      changed += await replica.applyFullPage(page.docs, null, mark);
      cursor = page.cursor;
    } while (cursor);
    changed += await replica.sweep(collection, mark);
    await replica.recompute(collection);
    return changed;
  } finally {
    replica.integrity?.marks.delete(collection);
  }
}
