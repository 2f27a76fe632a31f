/** Checks collection filters and a stream subscription's `since`, `lastEventId` and `collections` before a stream opens, so a bad one gets a 4xx, not a broken stream. */
import { decodeCheckpoint } from '../../shared/checkpoint.js';
import { SyncError } from '../../shared/errors.js';
import type { SyncEngine } from '../engine/types.js';

/** A stream subscription as the engine takes it. */
export interface StreamRequest {
  since?: string | null;
  collections?: string[];
  /** A read rule's view (see `SyncEngine.authorizeRead`). */
  view?: { rule: string; params?: Record<string, unknown> };
  /** With `view`: ask for the view's checksum on the last catch-up event. */
  verifyView?: boolean | undefined;
  lastEventId?: string | null;
  /** The client's schema version (see the engine's `minSchemaVersion`). */
  schemaVersion?: number | null;
}

/** Throws BAD_REQUEST naming the field when a checkpoint is malformed or a collection unknown. */
export function checkStreamRequest(engine: SyncEngine, input: StreamRequest): void {
  decodeCheckpoint(input.since, 'since');
  decodeCheckpoint(input.lastEventId, 'lastEventId');
  checkCollections(engine, input.collections);
}

/** Throws BAD_REQUEST naming `collections.<i>` for a name that is not a collection of the schema. */
export function checkCollections(
  engine: SyncEngine,
  collections: readonly string[] | undefined,
): void {
  for (const [i, name] of (collections ?? []).entries()) {
    if (typeof name !== 'string' || !engine.schema.has(name)) {
      throw new SyncError('BAD_REQUEST', `collections: unknown collection "${String(name)}"`, [
        {
          path: `collections.${i}`,
          message: `unknown collection (expected one of ${engine.schema.names.join(', ')})`,
        },
      ]);
    }
  }
}
