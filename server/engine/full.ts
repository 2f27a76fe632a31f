/**
 * Full export: current state in keyset pages (tombstones included). The checkpoint is taken
 * before the first page and carried in the cursor, so pulling from it after the last page
 * converges even when writes happened during the export.
 */
import { decodeCursor, encodeCursor } from '../../shared/checkpoint.js';
import { fullInput, type Actor, type FullPage } from '../../shared/protocol.js';
import type { Store } from '../stores/store.js';
import { checkpointOf, sinceSeq } from './commits.js';
import { readableCollections, type AuthorizeCollection } from './read-auth.js';
import type { SyncLimits } from './types.js';
import { checkCollections, pageLimit, parseInput } from './validate.js';
import type { SyncSchema } from '../../shared/schema.js';

export async function full(store: Store, schema: SyncSchema, limits: SyncLimits, actor: Actor, input: unknown, authorize?: AuthorizeCollection): Promise<FullPage> {
  const req = parseInput(fullInput, input, 'full');
  checkCollections(schema, req.collections);
  const collections = await readableCollections(authorize, schema, actor, 'full', req.collections);
  const limit = pageLimit(req.limit, limits.fullDefaultLimit, limits.fullMaxLimit, 'fullMaxLimit');
  const scope = actor.scopeId;
  const cursor = decodeCursor(req.cursor);
  let checkpoint: string;
  if (cursor) {
    sinceSeq(store, cursor.checkpoint, 'cursor');
    checkpoint = cursor.checkpoint;
  } else {
    checkpoint = checkpointOf(store, (await store.head(scope)).seq);
  }
  const docs = collections?.length === 0 ? [] : await store.scanDocs(scope, { collections, after: cursor, limit: limit + 1 });
  const page = docs.slice(0, limit);
  const last = page.at(-1);
  return {
    docs: page.map((d) => ({ collection: d.collection, id: d.id, data: d.deleted ? null : d.data, version: d.version, deleted: d.deleted })),
    cursor: docs.length > limit && last ? encodeCursor({ checkpoint, collection: last.collection, id: last.id }) : null,
    checkpoint,
  };
}
