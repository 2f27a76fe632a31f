/** The network half of sync: push the outbox in batches, pull from the checkpoint, rebuild from `full`. */
import type { SyncApi } from './api.js';
import type { Emitter } from './emitter.js';
import type { SyncClientEvents } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { Replica } from './replica.js';
import { isResyncRequired, withRetry } from './retry.js';

/** What the sync steps share. */
export interface TransferContext {
  api: SyncApi;
  replica: Replica;
  options: ResolvedOptions;
  events: Emitter<SyncClientEvents>;
  clientId: string;
}

/**
 * Pushes the outbox oldest first, one batch at a time, until it is empty (or holds only entries
 * the server did not answer). Network failures are retried with backoff; the entries stay in the
 * outbox until their results come back, and retries carry the same mutation ids, so the server
 * answers `duplicate` instead of applying twice.
 */
export async function pushOutbox(ctx: TransferContext): Promise<number> {
  let pushed = 0;
  for (;;) {
    const batch = await ctx.replica.store.listOutbox({ limit: ctx.options.batchSize });
    if (batch.length === 0) return pushed;
    const response = await withRetry(() => ctx.api.push.mutate({ clientId: ctx.clientId, atomic: true, changes: batch }), ctx.options.retry);
    const answered = await ctx.replica.applyPushResults(batch, response);
    pushed += answered;
    if (answered === 0) return pushed; // the server answered none of them: stop rather than loop
  }
}

/** Pulls every page after the stored checkpoint; on RESYNC_REQUIRED rebuilds from `full`. Returns the number of changes applied. */
export async function pullChanges(ctx: TransferContext, allowResync = true): Promise<number> {
  let pulled = 0;
  for (;;) {
    const since = await ctx.replica.store.getMeta('checkpoint');
    let page;
    try {
      page = await withRetry(() => ctx.api.pull.query({ since, collections: ctx.options.collections, limit: ctx.options.pullLimit }), ctx.options.retry);
    } catch (error) {
      if (!allowResync || !isResyncRequired(error)) throw error;
      return pulled + (await resync(ctx));
    }
    await ctx.replica.applyServerChanges(page.changes, page.checkpoint);
    pulled += page.changes.length;
    if (!page.hasMore) return pulled;
  }
}

/**
 * Rebuilds the local store from a full export: every page (tombstones included), then documents
 * the server no longer has are dropped (unless they have pending local changes), then a pull
 * from the export's checkpoint catches up with writes made during the export.
 */
export async function resync(ctx: TransferContext): Promise<number> {
  const seen = new Set<string>();
  let cursor: string | null = null;
  let checkpoint = '';
  let docs = 0;
  do {
    const page = await withRetry(() => ctx.api.full.query({ collections: ctx.options.collections, cursor, limit: ctx.options.fullLimit }), ctx.options.retry);
    checkpoint = page.checkpoint;
    await ctx.replica.applyFullPage(page.docs, seen);
    docs += page.docs.length;
    cursor = page.cursor;
  } while (cursor);
  await ctx.replica.finishResync(seen, checkpoint);
  ctx.events.emit('resync', { docs, checkpoint });
  // Catch up from the export's checkpoint; a second RESYNC_REQUIRED here is thrown (history pruned faster than we read it).
  return docs + (await pullChanges(ctx, false));
}
