// Runs the store conformance suite and MongoDB-specific checks against a replica set at MONGODB_URI.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { runStoreConformance } from '../conformance/index.js';
import { mongoStore, type MongoStore } from '../../server/stores/mongodb/index.js';
import type { StoredDoc, StoreEvent } from '../../server/stores/store.js';

const uri = process.env.MONGODB_URI;
const skip = uri ? undefined : 'MONGODB_URI not set';

// One client per test file; every store gets its own database, dropped at the end.
const clients: MongoClient[] = [];
const databases: string[] = [];

async function newClient(): Promise<MongoClient> {
  const client = new MongoClient(uri!);
  await client.connect();
  clients.push(client);
  return client;
}

let shared: Promise<MongoClient> | null = null;
async function newStore(options?: Parameters<typeof mongoStore>[1]): Promise<MongoStore> {
  shared ??= newClient();
  const name = `tos_test_${randomBytes(6).toString('hex')}`;
  databases.push(name);
  const store = mongoStore((await shared).db(name), options);
  await store.init();
  return store;
}

afterAll(async () => {
  if (!uri) return;
  const client = await (shared ?? newClient());
  for (const name of databases) await client.db(name).dropDatabase();
  for (const c of clients) await c.close();
}, 60_000);

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

function doc(scope: string, id: string, seq: number, data: Record<string, unknown>): StoredDoc {
  const version = '20260502T120000.000Z-0000-test';
  return { scope, collection: 'tasks', id, data, fields: Object.fromEntries(Object.keys(data).map((k) => [k, version])), version, seq, deleted: false, actor: 'user-1' };
}

/** Commits one document the way the engine does: doc, oplog entry, head. */
async function commitOne(store: MongoStore, scope: string, id: string, data: Record<string, unknown>): Promise<number> {
  return store.transaction(scope, async (tx) => {
    const seq = tx.head.seq + 1;
    const d = doc(scope, id, seq, data);
    await tx.putDocs([d]);
    await tx.appendOplog([{ scope, seq, idx: 0, collection: 'tasks', id, op: 'upsert', data, version: d.version, actor: d.actor, clientId: null, mutationId: null, at: new Date() }]);
    await tx.setHead(seq);
    return seq;
  });
}

describe.skipIf(!uri)('mongoStore (MongoDB specifics)', () => {
  it('delivers commits made through a second client over the change stream', async () => {
    const a = await newStore();
    const other = await newClient();
    const b = mongoStore(other.db(a.raw.databaseName));
    await b.init();
    const scope = `s-${randomBytes(4).toString('hex')}`;
    const heard = new Promise<StoreEvent>((resolve) => {
      a.onEvent((event) => {
        if (event.type === 'commit' && event.scope === scope) resolve(event);
      });
    });
    // The stream opens asynchronously; commit until it is heard rather than guessing a delay.
    let seq = 0;
    const timer = setInterval(() => void commitOne(b, scope, `t${seq}`, { title: 'x' }).then((s) => (seq = s)), 500);
    try {
      const event = await heard;
      expect(event).toMatchObject({ type: 'commit', scope });
    } finally {
      clearInterval(timer);
      await a.close();
      await b.close();
    }
  }, 30_000);

  it('creates the TTL index on sync_oplog.at, and changes its expiry when the option changes', async () => {
    const store = await newStore({ retentionSeconds: 3600 });
    const ttl = async () => (await store.raw.collection('sync_oplog').indexes()).find((i) => i.key.at === 1);
    expect((await ttl())?.expireAfterSeconds).toBe(3600);
    const again = mongoStore(store.raw, { retentionSeconds: 7200 });
    await again.init();
    expect((await ttl())?.expireAfterSeconds).toBe(7200);
    await store.close();
    await again.close();
  });

  it('stores the flat _sync_* metadata next to the data fields, in the mapped collection', async () => {
    const store = await newStore({ collectionName: (c) => `app_${c}` });
    const scope = `s-${randomBytes(4).toString('hex')}`;
    await commitOne(store, scope, 't1', { title: 'Buy milk', done: false });
    const raw = await store.raw.collection('app_tasks').findOne({ _sync_scope_id: scope, _sync_id: 't1' });
    expect(raw).toMatchObject({
      title: 'Buy milk',
      done: false,
      _sync_id: 't1',
      _sync_scope_id: scope,
      _sync_version: '20260502T120000.000Z-0000-test',
      _sync_actor_id: 'user-1',
      _sync_deleted: false,
      _sync_seq: 1,
      _sync_fields: { title: '20260502T120000.000Z-0000-test', done: '20260502T120000.000Z-0000-test' },
    });
    const indexes = await store.raw.collection('app_tasks').indexes();
    expect(indexes.find((i) => i.name === 'sync_scope_id')).toMatchObject({ unique: true, key: { _sync_scope_id: 1, _sync_id: 1 } });
    const [scanned] = await store.scanDocs(scope, { limit: 10 });
    expect(scanned).toMatchObject({ collection: 'tasks', id: 't1', data: { title: 'Buy milk', done: false }, seq: 1 });
    await store.close();
  });

  it('keeps the same id in two scopes as two documents', async () => {
    const store = await newStore();
    await commitOne(store, 'scope-a', 'same', { title: 'a' });
    await commitOne(store, 'scope-b', 'same', { title: 'b' });
    expect((await store.scanDocs('scope-a', { limit: 10 })).map((d) => d.data)).toEqual([{ title: 'a' }]);
    expect((await store.scanDocs('scope-b', { limit: 10 })).map((d) => d.data)).toEqual([{ title: 'b' }]);
    await store.close();
  });
});
