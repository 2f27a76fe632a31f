// What `init()` does: asks the server what it is, creates collections and indexes, makes the epoch once.
import { randomInt } from 'node:crypto';
import type { Collection, Db, Document } from 'mongodb';
import {
  DOC_INDEX,
  LEGACY_DOC_INDEX,
  LEGACY_LOOKUP_INDEX,
  LEGACY_TTL_INDEX,
  storeIndexes,
  type StoreCollections,
} from './collections.js';
import {
  isDuplicateKey,
  isIndexNotFound,
  isNamespaceExists,
  isNamespaceNotFound,
} from './errors.js';

/** What `hello` says about the deployment. */
export interface Topology {
  /** A replica set member or a mongos: transactions and change streams. */
  clustered: boolean;
  /** A mongos (sharded cluster). */
  sharded: boolean;
}

/** Asks the server what it is. */
export async function topology(db: Db): Promise<Topology> {
  const hello = await db.command({ hello: 1 });
  const sharded = hello.msg === 'isdbgrid';
  return { clustered: typeof hello.setName === 'string' || sharded, sharded };
}

/**
 * Creates the store's collections and indexes when missing, and drops the TTL index of earlier
 * versions. Collections are created up front because a transaction's first write should not have
 * to create one (refused before MongoDB 4.4, and in cross-shard transactions).
 */
export async function ensureStoreCollections(db: Db, cols: StoreCollections): Promise<void> {
  const names = [cols.meta, cols.scopes, cols.oplog, cols.clients, cols.mutations].map(
    (c) => c.collectionName,
  );
  const existing = new Set(
    (await db.listCollections({ name: { $in: names } }, { nameOnly: true }).toArray()).map(
      (c) => c.name,
    ),
  );
  for (const name of names) {
    if (existing.has(name)) continue;
    try {
      await db.createCollection(name);
    } catch (error) {
      if (!isNamespaceExists(error)) throw error;
    }
  }
  await dropIndexIfPresent(cols.oplog as unknown as Collection<Document>, LEGACY_TTL_INDEX);
  const indexes = storeIndexes();
  await cols.oplog.createIndexes(indexes.oplog);
  await cols.clients.createIndexes(indexes.clients);
  await cols.mutations.createIndexes(indexes.mutations);
}

/**
 * Creates one app collection's indexes (idempotent): the unique `{_sync_scope_id, _sync_id}` and
 * the lookup of documents stored without `_sync_id`; drops the index of earlier versions that
 * refused a second such document per scope.
 */
export async function ensureDocIndex(db: Db, collection: string): Promise<void> {
  const coll = db.collection(collection);
  // The old index first: it has the same key pattern as the new unique one, which MongoDB may refuse beside it.
  await dropIndexIfPresent(coll, LEGACY_DOC_INDEX);
  await coll.createIndexes([DOC_INDEX, LEGACY_LOOKUP_INDEX]);
}

async function dropIndexIfPresent(collection: Collection<Document>, name: string): Promise<void> {
  try {
    await collection.dropIndex(name);
  } catch (error) {
    if (!isIndexNotFound(error) && !isNamespaceNotFound(error)) throw error;
  }
}

const EPOCH_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Reads the epoch, making it on first use; two processes racing agree on the first one written. */
export async function ensureEpoch(cols: StoreCollections): Promise<string> {
  const fresh = Array.from(
    { length: 10 },
    () => EPOCH_ALPHABET[randomInt(EPOCH_ALPHABET.length)],
  ).join('');
  try {
    await cols.meta.updateOne(
      { _id: 'epoch' },
      { $setOnInsert: { value: fresh } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKey(error)) throw error; // lost the race: the winner's epoch is read below
  }
  const doc = await cols.meta.findOne({ _id: 'epoch' }, { readPreference: 'primary' });
  if (!doc || !/^[a-z0-9]{1,32}$/.test(doc.value)) {
    throw new Error(
      `mongoStore: ${cols.meta.collectionName} holds no valid epoch (found ${JSON.stringify(doc?.value)})`,
    );
  }
  return doc.value;
}
