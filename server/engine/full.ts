/**
 * Full export: current state in keyset pages (tombstones included). The checkpoint is taken
 * before the first page and carried in the cursor, so pulling from it after the last page
 * converges even when writes happened during the export.
 */
import { decodeCursor, encodeCursor } from '../../shared/checkpoint.js';
import { fullInput, type Actor, type FullPage } from '../../shared/protocol.js';
import { compareStrings } from '../../shared/order.js';
import type { DocKey, Store, StoredDoc } from '../stores/store.js';
import { checkpointOf, sinceSeq } from './commits.js';
import { readableCollections, type AuthorizeCollection } from './read-auth.js';
import type { ReadOptions, SyncLimits } from './types.js';
import { checkCollections, pageLimit, parseInput } from './validate.js';
import type { SyncSchema } from '../../shared/schema.js';
import { planFor, toMatch, type ReadPlan, type ViewsContext } from './views.js';

export async function full(
  store: Store,
  schema: SyncSchema,
  limits: SyncLimits,
  actor: Actor,
  input: unknown,
  authorize?: AuthorizeCollection,
  views: ViewsContext | null = null,
  indexes?: Promise<void>,
  defaultViews?: ReadOptions['defaultViews'],
): Promise<FullPage> {
  const req = parseInput(fullInput, input, 'full');
  checkCollections(schema, req.collections);
  const plan = await planFor(views, schema, authorize, actor, 'full', { ...req, defaultViews });
  const collections = plan
    ? null
    : await readableCollections(authorize, schema, actor, 'full', req.collections);
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
  let docs: StoredDoc[];
  if (plan) {
    await indexes;
    docs = await planDocs(store, scope, plan, cursor, limit + 1);
  } else {
    docs =
      collections?.length === 0
        ? []
        : await store.scanDocs(scope, {
            collections: collections ?? undefined,
            after: cursor,
            limit: limit + 1,
          });
  }
  const page = docs.slice(0, limit);
  const last = page.at(-1);
  return {
    docs: page.map((d) => ({
      collection: d.collection,
      id: d.id,
      data: d.deleted ? null : d.data,
      version: d.version,
      deleted: d.deleted,
    })),
    cursor:
      docs.length > limit && last
        ? encodeCursor({ checkpoint, collection: last.collection, id: last.id })
        : null,
    checkpoint,
  };
}

/**
 * Up to `want` documents of a plan after `after`, in (collection, id) order: collections read
 * whole in one scan (tombstones included), each filtered collection through the store's filtered
 * (indexed) read of its live matching documents.
 */
async function planDocs(
  store: Store,
  scope: string,
  plan: ReadPlan,
  after: DocKey | null,
  want: number,
): Promise<StoredDoc[]> {
  const names = [...plan.specs.keys()]
    .sort(compareStrings)
    .filter((c) => !after || compareStrings(c, after.collection) >= 0);
  const out: StoredDoc[] = [];
  for (const collection of names) {
    if (out.length >= want) break;
    const spec = plan.specs.get(collection)!;
    if (spec !== 'all' && spec.length === 0) continue; // no filter: nothing to export
    const from = after && after.collection === collection ? after : null;
    const options = { collections: [collection], after: from, limit: want - out.length };
    out.push(
      ...(await store.scanDocs(
        scope,
        spec === 'all' ? options : { ...options, match: spec.map(toMatch) },
      )),
    );
  }
  return out;
}
