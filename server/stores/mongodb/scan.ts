// scanDocs: a scope's documents in (collection, id) order, including documents stored without `_sync_id`.
import type { Db, Document } from 'mongodb';
import { compareStrings } from '../../../shared/order.js';
import { WRITER_FIELD, type DocMatch, type ScanDocsOptions, type StoredDoc } from '../store.js';
import { fromMongoDoc, META } from './documents.js';
import type { ReadOptions } from './reads.js';

/**
 * The synced collections a scan without a filter walks: those listed on the scope document (every
 * collection this store wrote to in the scope) and those configured on the store (`collections`),
 * so collections another program wrote to are not left out. Sorted, each once.
 */
export function scanCollections(
  listed: readonly string[] | undefined,
  configured: readonly string[],
  filter?: readonly string[],
): string[] {
  const names = filter ?? [...(listed ?? []), ...configured];
  return [...new Set(names)].sort(compareStrings);
}

/** Merges two id-sorted lists (ids unique across both) into the first `limit` by id. */
export function mergeById<T extends { id: string }>(
  a: readonly T[],
  b: readonly T[],
  limit: number,
): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && compareStrings(a[i]!.id, b[j]!.id) <= 0))
      out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}

const LEGACY_KEY = '__sync_legacy_key';

/**
 * The query of `ScanDocsOptions.match`: live documents whose top-level fields equal one of the
 * values. `$in` with null also matches a missing field (as the engine's filter does); arrays are
 * excluded, since MongoDB would match an array holding the value.
 */
export function matchFilter(match: readonly DocMatch[]): Document {
  const alternatives = match.map((m) => {
    const clause: Document = {};
    for (const [field, values] of Object.entries(m)) {
      // The last writer is the `_sync_actor_id` metadata field (a string), not a data field.
      if (field === WRITER_FIELD)
        clause[META.actor] = { $in: values.filter((v) => typeof v === 'string') };
      else clause[field] = { $in: [...values], $not: { $type: 'array' } };
    }
    return clause;
  });
  // An empty $or is refused by MongoDB: no alternative matches nothing.
  return {
    [META.deleted]: { $ne: true },
    ...(alternatives.length > 0 ? { $or: alternatives } : { _id: { $in: [] } }),
  };
}

/**
 * One keyset page of a scope's documents. Per collection, two index-backed reads merged by id:
 * documents with `_sync_id` (ordered by it), and documents another program wrote without it (their
 * id is the string form of `_id`; sorted on it server-side with the page's limit, so memory stays
 * bounded by the page; each page reads the scope's documents without `_sync_id`, which is why the
 * migration guide backfills `_sync_id` once the old server is gone).
 */
export async function scanPage(
  db: Db,
  collectionName: (collection: string) => string,
  scope: string,
  names: readonly string[],
  options: ScanDocsOptions,
  read: ReadOptions,
): Promise<StoredDoc[]> {
  const after = options.after ?? null;
  const out: StoredDoc[] = [];
  for (const collection of names) {
    if (out.length >= options.limit) break;
    if (after && compareStrings(collection, after.collection) < 0) continue;
    const from = after && collection === after.collection ? after.id : null;
    const limit = options.limit - out.length;
    const coll = db.collection(collectionName(collection));
    const idRange: Document = from === null ? { $exists: true } : { $exists: true, $gt: from };
    const matched = options.match ? matchFilter(options.match) : {};
    const synced = await coll
      .find({ [META.scope]: scope, [META.id]: idRange, ...matched }, read)
      .sort({ [META.id]: 1 })
      .limit(limit)
      .toArray();
    const pipeline: Document[] = [
      { $match: { [META.scope]: scope, [META.id]: { $exists: false }, ...matched } },
      { $addFields: { [LEGACY_KEY]: { $toString: '$_id' } } },
      ...(from === null ? [] : [{ $match: { [LEGACY_KEY]: { $gt: from } } }]),
      { $sort: { [LEGACY_KEY]: 1 } },
      { $limit: limit },
      { $project: { [LEGACY_KEY]: 0 } },
    ];
    const legacy = await coll.aggregate(pipeline, read).toArray();
    const docs = mergeById(
      synced.map((raw) => fromMongoDoc(collection, raw)),
      legacy.map((raw) => fromMongoDoc(collection, raw)),
      limit,
    );
    out.push(...docs);
  }
  return out;
}
