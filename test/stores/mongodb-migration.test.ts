// Migration from fastapi-offline-sync on a database shaped like that package's, following docs/migrating-from-fastapi-offline-sync.md.
import { ObjectId, type Db } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongoStore } from '../../server/stores/mongodb/index.js';
import { makeEngine, fullExport } from '../conformance/fixture.js';
import { freshDb, newClient, skipReason, uri } from './mongodb-fixture.js';

const skip = skipReason('migration from fastapi-offline-sync');

const SCOPE = 'biz-1';
const OLD_VERSION = '20240502T120000.000Z-0000-oldserver'; // an HLC the old server wrote (this kit's format, so the engine can compare it)

/** What the old server holds: documents with its flat `_sync_*` fields and no `_sync_id`, and an oplog of its own named `sync_oplog`. */
async function oldServerDatabase(db: Db): Promise<{ oid: ObjectId }> {
  const oid = new ObjectId();
  await db.collection('tasks').insertMany([
    {
      _id: oid,
      title: 'from the old server',
      done: false,
      _sync_version: OLD_VERSION,
      _sync_scope_id: SCOPE,
      _sync_actor_id: 'u1',
      _sync_deleted: false,
    },
    {
      _id: 'task-2' as never,
      title: 'string _id',
      done: true,
      _sync_version: OLD_VERSION,
      _sync_scope_id: SCOPE,
      _sync_actor_id: 'u1',
      _sync_deleted: false,
    },
    {
      _id: new ObjectId(),
      title: 'deleted',
      done: false,
      _sync_version: OLD_VERSION,
      _sync_scope_id: SCOPE,
      _sync_actor_id: 'u1',
      _sync_deleted: true,
    },
    {
      _id: new ObjectId(),
      title: 'other tenant',
      done: false,
      _sync_version: OLD_VERSION,
      _sync_scope_id: 'biz-2',
      _sync_actor_id: 'u9',
      _sync_deleted: false,
    },
  ]);
  await db.collection('sync_oplog').insertOne({
    collection: 'tasks',
    doc_id: oid.toHexString(),
    operation: 'upsert',
    version: OLD_VERSION,
    scope_id: SCOPE,
  });
  return { oid };
}

describe.skipIf(!uri)(
  `migrating from fastapi-offline-sync (the guide's steps on a database shaped like that package's)${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('the old server keeps working beside the new one; ids are the string form of _id; a push updates in place; full finds unlisted collections', async () => {
      const client = await newClient();
      const db = client.db(freshDb(client));
      const { oid } = await oldServerDatabase(db);
      const oldOplogIndexes = await db.collection('sync_oplog').indexes();

      // Step 1: init with a prefix of its own, while the old server runs (nothing renamed, nothing backfilled).
      const store = mongoStore(db, { collections: ['tasks', 'notes'], collectionPrefix: 'tos_' });
      await store.init();
      expect(await db.collection('sync_oplog').countDocuments()).toBe(1);
      expect(await db.collection('sync_oplog').indexes()).toEqual(oldOplogIndexes);

      // The old server still inserts documents without _sync_id in the same scope: no duplicate key.
      await db.collection('tasks').insertOne({
        title: 'old server, after init',
        done: false,
        _sync_version: OLD_VERSION,
        _sync_scope_id: SCOPE,
        _sync_actor_id: 'u1',
        _sync_deleted: false,
      });
      await db.collection('tasks').insertOne({
        title: 'and another',
        done: false,
        _sync_version: OLD_VERSION,
        _sync_scope_id: SCOPE,
        _sync_actor_id: 'u1',
        _sync_deleted: false,
      });

      // Steps 2-3: the new server answers. full without a collection filter: the scope's document lists nothing yet.
      const engine = makeEngine(store);
      const actor = { userId: 'u2', scopeId: SCOPE };
      const first = await fullExport(engine, actor, 2);
      const ids = first.docs.map((d) => d.id);
      expect(ids).toHaveLength(5);
      expect(ids).not.toContain('undefined');
      expect(ids).toContain(oid.toHexString());
      expect(ids).toContain('task-2');
      expect(first.docs.find((d) => d.id === oid.toHexString())).toMatchObject({
        collection: 'tasks',
        data: { title: 'from the old server', done: false },
        deleted: false,
      });
      expect(first.docs.filter((d) => d.deleted)).toHaveLength(1);
      expect([...ids].sort()).toEqual(ids); // one keyset order across pages of size 2

      // A push to an old document updates it in place (no second document), and gives it _sync_id.
      const count = await db.collection('tasks').countDocuments({ _sync_scope_id: SCOPE });
      const res = await engine.push(actor, {
        clientId: 'new-app',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: oid.toHexString(),
            op: 'patch',
            data: { done: true },
          },
          {
            mutationId: 2,
            collection: 'tasks',
            id: 'task-2',
            op: 'upsert',
            data: { title: 'renamed', done: true },
          },
        ],
      });
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      expect(await db.collection('tasks').countDocuments({ _sync_scope_id: SCOPE })).toBe(count);
      expect(await db.collection('tasks').findOne({ _id: oid })).toMatchObject({
        _sync_id: oid.toHexString(),
        title: 'from the old server',
        done: true,
      });
      expect(await db.collection('tasks').findOne({ _id: 'task-2' as never })).toMatchObject({
        _sync_id: 'task-2',
        title: 'renamed',
      });

      // Step 4 (old server gone): the backfill of the guide changes no id.
      await db
        .collection('tasks')
        .updateMany({ _sync_id: { $exists: false }, _sync_scope_id: { $exists: true } }, [
          { $set: { _sync_id: { $toString: '$_id' } } },
        ]);
      const after = await fullExport(engine, actor);
      expect(after.docs.map((d) => d.id).sort()).toEqual([...ids].sort());
      expect((await fullExport(engine, { userId: 'u9', scopeId: 'biz-2' })).docs).toHaveLength(1);
      await engine.close();
      await store.close();
    });
  },
);
