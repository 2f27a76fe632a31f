// What `init()` does: asks the server what it is, creates collections and indexes, makes the epoch once.
import { randomInt } from 'node:crypto';
import type { Collection, Db, Document, IndexDescription } from 'mongodb';
import { COLLECTIONS, DOC_INDEX, OPLOG_TTL_INDEX, storeIndexes, type StoreCollections } from './collections.js';
import { isDuplicateKey, isIndexOptionsConflict, isNamespaceExists } from './errors.js';

/** Whether the server is a replica set member or a mongos: both run transactions and change streams. */
export async function isClustered(db: Db): Promise<boolean> {
  const hello = await db.command({ hello: 1 });
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

/**
 * Creates the store's collections and indexes when missing. Collections are created up front
 * because a transaction's first write should not have to create one (refused before MongoDB 4.4).
 */
export async function ensureStoreCollections(db: Db, cols: StoreCollections, retentionSeconds: number): Promise<void> {
  const names = Object.values(COLLECTIONS);
  const existing = new Set(
    (await db.listCollections({ name: { $in: names } }, { nameOnly: true }).toArray()).map((c) => c.name),
  );
  for (const name of names) {
    if (existing.has(name)) continue;
    try {
      await db.createCollection(name);
    } catch (error) {
      if (!isNamespaceExists(error)) throw error;
    }
  }
  const indexes = storeIndexes(retentionSeconds);
  await ensureIndexes(db, cols.oplog, indexes.oplog);
  await ensureIndexes(db, cols.clients, indexes.clients);
  await ensureIndexes(db, cols.mutations, indexes.mutations);
}

/** Creates one app collection's `{_sync_scope_id, _sync_id}` index (idempotent). */
export async function ensureDocIndex(db: Db, collection: string): Promise<void> {
  await db.collection(collection).createIndexes([DOC_INDEX]);
}

async function ensureIndexes<T extends Document>(db: Db, collection: Collection<T>, indexes: IndexDescription[]): Promise<void> {
  for (const index of indexes) {
    try {
      await collection.createIndexes([index]);
    } catch (error) {
      // The TTL index exists with another expiry (the option changed): change it in place.
      if (index.name === OPLOG_TTL_INDEX && isIndexOptionsConflict(error)) {
        await db.command({ collMod: collection.collectionName, index: { name: index.name, expireAfterSeconds: index.expireAfterSeconds } });
      } else {
        throw error;
      }
    }
  }
}

const EPOCH_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Reads the epoch, making it on first use; two processes racing agree on the first one written. */
export async function ensureEpoch(cols: StoreCollections): Promise<string> {
  const fresh = Array.from({ length: 10 }, () => EPOCH_ALPHABET[randomInt(EPOCH_ALPHABET.length)]).join('');
  try {
    await cols.meta.updateOne({ _id: 'epoch' }, { $setOnInsert: { value: fresh } }, { upsert: true });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error; // lost the race: the winner's epoch is read below
  }
  const doc = await cols.meta.findOne({ _id: 'epoch' });
  if (!doc || !/^[a-z0-9]{1,32}$/.test(doc.value)) {
    throw new Error(`mongoStore: sync_meta holds no valid epoch (found ${JSON.stringify(doc?.value)})`);
  }
  return doc.value;
}
