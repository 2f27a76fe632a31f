/** The network half of sync: push the outbox in batches, pull from the checkpoint, rebuild from `full`. */
import type { FullInput, FullPage } from '../shared/protocol.js';
import type { SyncApi } from './api.js';
import type { Emitter } from './emitter.js';
import type { SyncClientEvents } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { Replica } from './replica.js';
import type { OutboxEntry, ResyncState } from './local-store.js';
import { repairMismatches } from './repair.js';
import { clientIdConflict, isResyncRequired, pushRefusal, type PushRefusal } from './retry.js';

/** What the sync steps share. */
export interface TransferContext {
  api: SyncApi;
  replica: Replica;
  options: ResolvedOptions;
  events: Emitter<SyncClientEvents>;
  clientId: string;
  /** Every collection of the schema (what a resync sweeps when no `collections` option narrows it). */
  schemaNames: readonly string[];
  /** Runs one request with the retry policy (backoff; one token refresh after UNAUTHORIZED). */
  call<T>(fn: () => Promise<T>): Promise<T>;
  /** Adds the schema's version to a request input (when the schema has one). */
  versioned<I extends object>(input: I): I;
  /** After CLIENT_ID_CONFLICT: takes a new client id and renumbers the outbox under it (see `Replica.reidentify`). */
  reidentify(sent: readonly OutboxEntry[], recorded: readonly number[]): Promise<void>;
  /** A push failed without a refusal: split the batch, dead-letter a lone change that keeps failing, or `null` to retry later (see `PoisonTracker`). */
  poison?(batch: readonly OutboxEntry[], error: unknown): Promise<PushRefusal | null>;
}

/** How many times one `pushOutbox` takes a new client id before it reports the refusal instead. */
const MAX_REIDENTIFY = 3;

/** Thrown through a push's split parts when the client id changed: the parts hold the old ids. */
class ClientIdChanged extends Error {}

/**
 * Pushes the outbox oldest first, one batch at a time, until it is empty (or holds only entries
 * the server did not answer). Network failures are retried with backoff; the entries stay in the
 * outbox until their results come back, and retries carry the same mutation ids, so the server
 * answers `duplicate` instead of applying twice. A batch the server refuses as a whole
 * (`BAD_REQUEST`, `PAYLOAD_TOO_LARGE`) is split until the refused entries are found (see `pushBatch`).
 */
export async function pushOutbox(ctx: TransferContext): Promise<number> {
  let pushed = 0;
  let total: number | undefined;
  let reidentified = 0;
  // Another tab of this store may have taken a new client id.
  ctx.clientId = (await ctx.replica.store.getMeta('clientId')) ?? ctx.clientId;
  for (;;) {
    const batch = await ctx.replica.store.listOutbox({ limit: ctx.options.batchSize });
    if (batch.length === 0) return pushed;
    total ??= await ctx.replica.store.countOutbox();
    let answered: number;
    try {
      answered = await pushBatch(ctx, batch, reidentified < MAX_REIDENTIFY);
    } catch (error) {
      if (!(error instanceof ClientIdChanged)) throw error;
      reidentified++;
      continue; // the outbox now holds the same changes under the new id
    }
    pushed += answered;
    ctx.events.emit('progress', { phase: 'push', done: pushed, total: Math.max(total, pushed) });
    if (answered === 0) return pushed; // the server answered none of them: stop rather than loop
  }
}

/**
 * Pushes one batch (entries in mutation id order); returns how many entries were answered. When
 * the server refuses the request because of what it holds, the batch is split — around the
 * entries the error's issues name (`changes.<i>…`), else in halves — and the parts are pushed
 * in order, left to right, so every request's ids are increasing and above the ones before (the
 * server requires both). A single entry refused on its own is taken out of the outbox and
 * recorded as rejected; the entries around it go through as usual.
 */
async function pushBatch(
  ctx: TransferContext,
  batch: readonly OutboxEntry[],
  mayReidentify: boolean,
): Promise<number> {
  let response;
  try {
    response = await ctx.call(() =>
      ctx.api.push.mutate(
        ctx.versioned({ clientId: ctx.clientId, atomic: true, changes: [...batch] }),
      ),
    );
  } catch (error) {
    const conflict = clientIdConflict(error);
    if (conflict && mayReidentify) {
      await ctx.reidentify(batch, conflict.recorded);
      throw new ClientIdChanged();
    }
    const refusal = pushRefusal(error) ?? (ctx.poison ? await ctx.poison(batch, error) : null);
    if (!refusal) throw error;
    if (batch.length === 1) return ctx.replica.applyRefusal(batch[0]!, refusal);
    let answered = 0;
    for (const part of splitBatch(batch, refusal)) {
      const done = await pushBatch(ctx, part, mayReidentify);
      answered += done;
      if (done < part.length) break; // something went unanswered: stop here, so no later id overtakes it
    }
    return answered;
  }
  return ctx.replica.applyPushResults(batch, response);
}

/**
 * The parts to try after a refusal, in order: each entry the issues name on its own, the runs
 * between them together; with no usable index (a body or batch size limit), two halves.
 */
export function splitBatch<T>(batch: readonly T[], refusal: PushRefusal): T[][] {
  const named = new Set<number>();
  for (const issue of refusal.issues) {
    const match = /^changes\.(\d+)(?:\.|$)/.exec(issue.path);
    const index = match ? Number(match[1]) : -1;
    if (index >= 0 && index < batch.length) named.add(index);
  }
  if (named.size === 0) {
    const half = Math.ceil(batch.length / 2);
    return [batch.slice(0, half), batch.slice(half)].filter((part) => part.length > 0);
  }
  const parts: T[][] = [];
  let run: T[] = [];
  batch.forEach((entry, i) => {
    if (!named.has(i)) return void run.push(entry);
    if (run.length > 0) parts.push(run);
    parts.push([entry]);
    run = [];
  });
  if (run.length > 0) parts.push(run);
  return parts;
}

/** Pulls every page after the stored checkpoint; on RESYNC_REQUIRED rebuilds from `full`. Returns the number of changes applied. */
export async function pullChanges(ctx: TransferContext, allowResync = true): Promise<number> {
  let pulled = 0;
  let fresh: boolean | undefined;
  // A resync that did not finish (the app was closed part way) is finished first.
  if (allowResync && (await ctx.replica.store.getMeta('resync'))) return resync(ctx);
  for (;;) {
    const since = await ctx.replica.store.getMeta('checkpoint');
    let page;
    try {
      page = await ctx.call(() =>
        ctx.api.pull.query(
          ctx.versioned({
            since,
            collections: ctx.options.collections,
            limit: ctx.options.pullLimit,
          }),
        ),
      );
    } catch (error) {
      if (!allowResync || !isResyncRequired(error)) throw error;
      return pulled + (await resync(ctx));
    }
    // The last page's checksums are compared (an audit recomputes the local ones first, when due).
    const integrity = ctx.replica.integrity;
    // No audit of a store that held nothing from the server when this pull began: its sums were all kept here.
    fresh ??= since === null;
    const check =
      page.checksums && integrity
        ? { expected: page.checksums, audit: integrity.auditDue(fresh) }
        : {};
    await ctx.replica.applyServerChanges(page.changes, page.checkpoint, [], null, check);
    pulled += page.changes.length;
    if (page.changes.length > 0) ctx.events.emit('progress', { phase: 'pull', done: pulled });
    if (!page.hasMore) return pulled + (await repairMismatches(ctx));
  }
}

/**
 * Rebuilds the local store from a full export, page by page as the pages arrive (never all held):
 * each page is stored with the resync's progress in the same write, so a resync cut short (the app
 * killed, the network gone) resumes from its last page instead of starting over, and the old
 * checkpoint stays until the end, so a half-rebuilt store never looks complete. After the last
 * page, documents the export did not hold are dropped (unless they have pending local changes),
 * then a pull from the export's checkpoint catches up with writes made during the export.
 */
export async function resync(ctx: TransferContext): Promise<number> {
  const state = await exportPages(
    ctx,
    (await ctx.replica.store.getMeta('resync')) ?? newResyncState('r'),
    { collections: ctx.options.collections },
    async (page, next) => {
      await ctx.replica.applyFullPage(page.docs, next);
      ctx.events.emit('progress', { phase: 'full', done: next.done });
      return true;
    },
  );
  if (!state) return 0;
  await ctx.replica.finishResync(state, ctx.options.collections ?? ctx.schemaNames);
  ctx.events.emit('resync', { docs: state.done, checkpoint: state.checkpoint! });
  // Catch up from the export's checkpoint; a second RESYNC_REQUIRED here is thrown (history pruned faster than we read it).
  return state.done + (await pullChanges(ctx, false));
}

/** A new export's progress: a fresh mark (`prefix` + time + random), no cursor or checkpoint yet. */
export function newResyncState(prefix: string): ResyncState {
  return {
    mark: `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    cursor: null,
    checkpoint: null,
    done: 0,
  };
}

/**
 * Reads a paged export (`full` with `input`) from `state` to its last page, handing each page and
 * the progress after it to `onPage`, which stores both in one write (so an export cut short
 * resumes from its last page) and answers false to stop (e.g. the view was unsubscribed). A
 * resumed export whose checkpoint the server no longer keeps (RESYNC_REQUIRED) starts over.
 * Returns the final progress, or null when `onPage` stopped it. Nothing is read when `state`
 * says every page is done.
 */
export async function exportPages(
  ctx: TransferContext,
  start: ResyncState,
  input: Omit<FullInput, 'cursor' | 'limit' | 'schemaVersion'>,
  onPage: (page: FullPage, state: ResyncState) => Promise<boolean>,
): Promise<ResyncState | null> {
  let state = start;
  if (state.checkpoint !== null && state.cursor === null) return state;
  for (;;) {
    let page: FullPage;
    try {
      const cursor = state.cursor;
      page = await ctx.call(() =>
        ctx.api.full.query(ctx.versioned({ ...input, cursor, limit: ctx.options.fullLimit })),
      );
    } catch (error) {
      if (state.cursor === null || !isResyncRequired(error)) throw error;
      state = { ...state, cursor: null, checkpoint: null };
      continue;
    }
    state = {
      mark: state.mark,
      cursor: page.cursor,
      checkpoint: page.checkpoint,
      done: state.done + page.docs.length,
    };
    if (!(await onPage(page, state))) return null;
    if (!state.cursor) return state;
  }
}
