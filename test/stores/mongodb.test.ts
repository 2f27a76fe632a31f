// Runs the store conformance suite and MongoDB-specific checks against a replica set at MONGODB_URI.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runStoreConformance } from '../conformance/index.js';
import { mongoStore, type MongoStore } from '../../server/stores/mongodb/index.js';
import type { StoreEvent } from '../../server/stores/store.js';
import { commitOne, newClient, newStore, skipReason, uri } from './mongodb-fixture.js';

const skip = skipReason('MongoDB store conformance and specifics, transactions');

runStoreConformance({
  name: 'mongodb',
  newStore: () => newStore(),
  // Same database, new store object: what a restarted server process sees.
  reopen: async (store) => {
    await store.close();
    const again = mongoStore((store as MongoStore).raw);
    await again.init();
    return again;
  },
  skip,
});

describe.skipIf(!uri)(`mongoStore (MongoDB specifics)${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('delivers commits made through a second client over the change stream, after a reset on first open', async () => {
    const a = await newStore();
    const other = await newClient();
    const b = mongoStore(other.db(a.raw.databaseName));
    await b.init();
    const scope = `s-${randomBytes(4).toString('hex')}`;
    const events: StoreEvent[] = [];
    const heard = new Promise<StoreEvent>((resolve) => {
      a.onEvent((event) => {
        events.push(event);
        if (event.type === 'commit' && event.scope === scope) resolve(event);
      });
    });
    // The stream opens asynchronously; commit until it is heard rather than guessing a delay.
    let seq = 0;
    const timer = setInterval(
      () => void commitOne(b, scope, `t${seq}`, { title: 'x' }).then((s) => (seq = s)),
      500,
    );
    try {
      const event = await heard;
      expect(event).toMatchObject({ type: 'commit', scope });
      expect(events[0]).toEqual({ type: 'reset' }); // listeners re-read heads when the stream is first established
    } finally {
      clearInterval(timer);
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('creates no TTL index on sync_oplog, and drops the one earlier versions made', async () => {
    const store = await newStore();
    const oplog = store.raw.collection('sync_oplog');
    expect((await oplog.indexes()).filter((i) => i.expireAfterSeconds !== undefined)).toEqual([]);
    await oplog.dropIndex('sync_oplog_at');
    await oplog.createIndex({ at: 1 }, { name: 'sync_oplog_at_ttl', expireAfterSeconds: 3600 });
    const again = mongoStore(store.raw, { retentionSeconds: 7200 }); // deprecated, ignored
    await again.init();
    const names = (await oplog.indexes()).map((i) => i.name);
    expect(names).not.toContain('sync_oplog_at_ttl');
    expect(names).toContain('sync_oplog_at');
    expect((await oplog.indexes()).filter((i) => i.expireAfterSeconds !== undefined)).toEqual([]);
    await store.close();
    await again.close();
  });

  it('builds the app-collection indexes in init() for configured and listed collections, and before the first write to another', async () => {
    const store = await newStore({ collections: ['tasks'], collectionName: (c) => `app_${c}` });
    const names = async (c: string) =>
      (
        await store.raw
          .collection(c)
          .indexes()
          .catch(() => [])
      ).map((i) => i.name);
    expect(await names('app_tasks')).toEqual(
      expect.arrayContaining(['sync_doc_id', 'sync_doc_scope_legacy']),
    );
    // A scope document listing a collection (written by an earlier process): the next init() indexes it.
    await store.raw
      .collection('sync_scopes')
      .insertOne({ _id: 'listed' as never, seq: 0, horizon: 0, collections: ['notes'] });
    const again = mongoStore(store.raw, { collectionName: (c) => `app_${c}` });
    await again.init();
    expect(await names('app_notes')).toEqual(expect.arrayContaining(['sync_doc_id']));
    await store.close();
    await again.close();
  });

  it('stores the flat _sync_* metadata next to the data fields, in the mapped collection', async () => {
    const store = await newStore({ collectionName: (c) => `app_${c}` });
    const scope = `s-${randomBytes(4).toString('hex')}`;
    await commitOne(store, scope, 't1', { title: 'Buy milk', done: false });
    const raw = await store.raw
      .collection('app_tasks')
      .findOne({ _sync_scope_id: scope, _sync_id: 't1' });
    expect(raw).toMatchObject({
      title: 'Buy milk',
      done: false,
      _sync_id: 't1',
      _sync_scope_id: scope,
      _sync_version: '20260502T120000.000Z-0000-test',
      _sync_actor_id: 'user-1',
      _sync_deleted: false,
      _sync_seq: 1,
      _sync_fields: {
        title: '20260502T120000.000Z-0000-test',
        done: '20260502T120000.000Z-0000-test',
      },
    });
    const indexes = await store.raw.collection('app_tasks').indexes();
    expect(indexes.find((i) => i.name === 'sync_doc_id')).toMatchObject({
      unique: true,
      key: { _sync_scope_id: 1, _sync_id: 1 },
    });
    const [scanned] = await store.scanDocs(scope, { limit: 10 });
    expect(scanned).toMatchObject({
      collection: 'tasks',
      id: 't1',
      data: { title: 'Buy milk', done: false },
      seq: 1,
    });
    await store.close();
  });

  it('keeps the same id in two scopes as two documents', async () => {
    const store = await newStore();
    await commitOne(store, 'scope-a', 'same', { title: 'a' });
    await commitOne(store, 'scope-b', 'same', { title: 'b' });
    expect((await store.scanDocs('scope-a', { limit: 10 })).map((d) => d.data)).toEqual([
      { title: 'a' },
    ]);
    expect((await store.scanDocs('scope-b', { limit: 10 })).map((d) => d.data)).toEqual([
      { title: 'b' },
    ]);
    await store.close();
  });

  it('collectionPrefix keeps the store out of collections another program owns', async () => {
    const store = await newStore({ collectionPrefix: 'tos_' });
    await commitOne(store, 'p', 't1', { title: 'x' });
    const names = (await store.raw.listCollections({}, { nameOnly: true }).toArray()).map(
      (c) => c.name,
    );
    expect(names).toEqual(
      expect.arrayContaining([
        'tos_meta',
        'tos_scopes',
        'tos_oplog',
        'tos_clients',
        'tos_mutations',
      ]),
    );
    expect(names.filter((n) => n.startsWith('sync_'))).toEqual([]);
    await store.close();
  });
});
