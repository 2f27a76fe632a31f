/**
 * `GET /sync/pull` of the fastapi-offline-sync face. `last_seq` carries our checkpoint, so pulls
 * stay gap-free and commit-ordered; a `since` we did not issue (an HLC from the old server, or a
 * checkpoint older than the retained history) answers `full_resync_required` instead of a page.
 */
import { decodeCheckpoint } from '../../../shared/checkpoint.js';
import { SyncError } from '../../../shared/errors.js';
import type { Actor } from '../../../shared/protocol.js';
import type { ReadOptions, SyncEngine } from '../../engine/types.js';
import { jsonResponse } from '../../rest/errors.js';
import { endpointParams, parseQuery } from '../../rest/params.js';
import { checkCollections } from '../../rest/stream-input.js';
import { toCompatChange } from './wire.js';

/** True when `since` is empty or a checkpoint of ours (any other string means: rebuild). */
export function usableSince(since: string | undefined | null): boolean {
  try {
    decodeCheckpoint(since);
    return true;
  } catch {
    return false;
  }
}

/** The `full_resync_required` answer: the collections the client should rebuild. */
export function resyncAnswer(engine: SyncEngine, collections: string[] | undefined) {
  return {
    full_resync_required: true as const,
    collections: collections ?? [...engine.schema.names],
  };
}

/** Query parameters: those of our pull, but `since` takes any string (an old HLC is not a 400). */
function pullParams(engine: SyncEngine) {
  return endpointParams(engine.limits).pull.map((p) =>
    p.name === 'since'
      ? { ...p, description: 'Our `last_seq`; anything else answers full_resync_required.' }
      : p,
  );
}

/** Handles one pull; `defaultViews`: the face's visibility (see `compatDefaultViews`). */
export async function handleCompatPull(
  engine: SyncEngine,
  actor: Actor,
  url: URL,
  defaultViews?: ReadOptions['defaultViews'],
): Promise<Response> {
  const query = parseQuery(url, pullParams(engine));
  const collections = query.collections as string[] | undefined;
  checkCollections(engine, collections);
  const since = query.since as string | undefined;
  if (!usableSince(since)) return jsonResponse(200, resyncAnswer(engine, collections));
  try {
    const page = await engine.pull(
      actor,
      { since, collections, limit: query.limit },
      defaultViews ? { defaultViews } : undefined,
    );
    return jsonResponse(200, {
      changes: page.changes.map(toCompatChange),
      last_seq: page.checkpoint,
      has_more: page.hasMore,
    });
  } catch (error) {
    if (SyncError.is(error) && error.code === 'RESYNC_REQUIRED')
      return jsonResponse(200, resyncAnswer(engine, collections));
    throw error;
  }
}
