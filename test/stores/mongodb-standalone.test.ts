// The MongoDB store's standalone (lease) path against a real server: conformance and injected crashes between its real calls.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runStoreConformance } from '../conformance/index.js';
import { mongoStore, type MongoStore } from '../../server/stores/mongodb/index.js';
import type { OplogEntry } from '../../server/stores/store.js';
import { commitOne, doc, newClient, newStore, skipReason, uri } from './mongodb-fixture.js';

const skip = skipReason('MongoDB standalone (lease) path');
const standaloneUri = process.env.MONGODB_STANDALONE_URI;
if (!standaloneUri)
  console.log(
    'skipped: MONGODB_STANDALONE_URI not set (conformance on a real standalone mongod: every test listed as skipped)',
  );

// `transactions: false` on a replica set runs exactly the code a standalone server gets (lease, commit point, take-over).
runStoreConformance({
  name: 'mongodb (standalone path, transactions: false)',
  newStore: () => newStore({ transactions: false }),
  skip,
});

// A real standalone mongod, when one is given: `transactions: 'auto'` picks the lease path by itself.
runStoreConformance({
  name: 'mongodb (standalone server)',
  newStore: async () => newStore(undefined, await newClient(undefined, standaloneUri)),
  skip: standaloneUri ? undefined : 'MONGODB_STANDALONE_URI not set',
});

function entry(scope: string, seq: number, id: string, title: string): OplogEntry {
  return {
    scope,
    seq,
    idx: 0,
    collection: 'tasks',
    id,
    op: 'upsert',
    data: { title },
    version: '20260502T120000.000Z-0000-test',
    actor: 'user-1',
    clientId: null,
    mutationId: null,
    at: new Date(),
  };
}

const newScope = () => `s-${randomBytes(4).toString('hex')}`;
const ids = async (store: MongoStore, scope: string) =>
  (await store.readOplog(scope, { afterSeq: 0 })).map((e) => `${e.seq}:${e.id}`);
const titles = async (store: MongoStore, scope: string) =>
  (await store.scanDocs(scope, { limit: 100 })).map((d) => `${d.id}=${String(d.data?.title)}`);

describe.skipIf(!uri)(
  `mongoStore standalone path: crashes and stale writers${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('a writer that dies between its oplog entries and its commit point leaves nothing readers see, and the next push commits', async () => {
      const store = await newStore({ transactions: false });
      const scope = newScope();
      await commitOne(store, scope, 't0', { title: 'a' });
      await expect(
        store.transaction(scope, async (tx) => {
          const seq = tx.head.seq + 1;
          await tx.putDocs([doc(scope, 't1', seq, { title: 'lost' })]);
          await tx.appendOplog([entry(scope, seq, 't1', 'lost')]);
          throw new Error('injected crash before the commit point');
        }),
      ).rejects.toThrow(/injected crash/);
      // The orphan entry is there, above the head; no document was written before the commit point.
      expect(await store.raw.collection('sync_oplog').countDocuments({ scope, seq: 2 })).toBe(1);
      expect(await store.head(scope)).toEqual({ seq: 1, horizon: 0 });
      expect(await ids(store, scope)).toEqual(['1:t0']);
      expect(await titles(store, scope)).toEqual(['t0=a']);
      // Earlier versions failed here with E11000 on {scope, seq, idx}, forever.
      expect(await commitOne(store, scope, 't2', { title: 'b' })).toBe(2);
      expect(await ids(store, scope)).toEqual(['1:t0', '2:t2']);
      expect(await titles(store, scope)).toEqual(['t0=a', 't2=b']);
      await store.close();
    });

    it('a writer that dies after its commit point has its commit finished by the next lease holder', async () => {
      const store = await newStore({ transactions: false });
      const scope = newScope();
      await commitOne(store, scope, 't0', { title: 'a' });
      await expect(
        store.transaction(scope, async (tx) => {
          const seq = tx.head.seq + 1;
          await tx.putDocs([doc(scope, 't1', seq, { title: 'kept' })]);
          await tx.appendOplog([entry(scope, seq, 't1', 'kept')]);
          // setHead's first step (the compare-and-set that is the commit point), then the crash.
          const writer = (await store.raw.collection('sync_oplog').findOne({ scope, seq }))
            ?.writer as string;
          await store.raw
            .collection('sync_scopes')
            .updateOne({ _id: scope as never }, { $set: { pending: seq, pendingWriter: writer } });
          throw new Error('injected crash after the commit point');
        }),
      ).rejects.toThrow(/injected crash/);
      expect(await store.head(scope)).toEqual({ seq: 1, horizon: 0 }); // not visible until its documents are written
      expect(await titles(store, scope)).toEqual(['t0=a']);
      expect(await commitOne(store, scope, 't2', { title: 'b' })).toBe(3);
      expect(await ids(store, scope)).toEqual(['1:t0', '2:t1', '3:t2']);
      expect(await titles(store, scope)).toEqual(['t0=a', 't1=kept', 't2=b']);
      const scopeDoc = await store.raw.collection('sync_scopes').findOne({ _id: scope as never });
      expect(scopeDoc).not.toHaveProperty('pending');
      await store.close();
    });

    it('a lease holder that stalls past its lease cannot overwrite what the next holder committed, nor commit', async () => {
      const store = await newStore({ transactions: false });
      const scope = newScope();
      await commitOne(store, scope, 't0', { title: 'first' });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const stale = store.transaction(scope, async (tx) => {
        await tx.getDocs([{ collection: 'tasks', id: 't0' }]);
        entered();
        await gate;
        const seq = tx.head.seq + 1;
        await tx.putDocs([doc(scope, 't0', seq, { title: 'stale' })]);
        await tx.appendOplog([entry(scope, seq, 't0', 'stale')]);
        await tx.setHead(seq);
      });
      await inside;
      // The holder stalls: its lease expires (the lease is compared with the server's clock).
      await store.raw
        .collection('sync_scopes')
        .updateOne({ _id: scope as never }, { $set: { leaseUntil: new Date(0) } });
      expect(await commitOne(store, scope, 't0', { title: 'fresh' })).toBe(2);
      release();
      await expect(stale).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(await titles(store, scope)).toEqual(['t0=fresh']);
      expect(await ids(store, scope)).toEqual(['1:t0', '2:t0']);
      expect((await store.readOplog(scope, { afterSeq: 1 }))[0]?.data).toEqual({ title: 'fresh' });
      await store.close();
    });

    it("entries another writer adds at a seq the holder commits are never read; one in the holder's way is cleared", async () => {
      const store = await newStore({ transactions: false });
      const scope = newScope();
      const oplog = store.raw.collection('sync_oplog');
      await store.transaction(scope, async (tx) => {
        const seq = tx.head.seq + 1;
        // A writer that lost its lease inserts entry 0 of this seq after the take-over's clean-up.
        await oplog.insertOne({ ...entry(scope, seq, 'x', 'stale'), writer: 'someone-else' });
        await tx.putDocs([doc(scope, 't1', seq, { title: 'mine' })]);
        await tx.appendOplog([entry(scope, seq, 't1', 'mine')]); // E11000 on (scope, 1, 0): cleared and written again
        await oplog.insertOne({
          ...entry(scope, seq, 'y', 'stale'),
          idx: 1,
          writer: 'someone-else',
        });
        await tx.setHead(seq);
      });
      expect(await ids(store, scope)).toEqual(['1:t1']);
      expect(
        (await store.readOplog(scope, { afterSeq: 0, collections: ['tasks'] })).map((e) => e.id),
      ).toEqual(['t1']);
      await store.close();
    });

    it('waits for a busy scope up to lockWaitMs, then answers UNAVAILABLE; an expired lease is taken over', async () => {
      const store = await newStore({ transactions: false, lockWaitMs: 300 });
      const scope = newScope();
      await commitOne(store, scope, 't0', { title: 'a' });
      const scopes = store.raw.collection('sync_scopes');
      await scopes.updateOne(
        { _id: scope as never },
        { $set: { leaseOwner: 'other', leaseUntil: new Date(Date.now() + 3_600_000) } },
      );
      await expect(commitOne(store, scope, 't1', { title: 'b' })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
      });
      await scopes.updateOne(
        { _id: scope as never },
        { $set: { leaseUntil: new Date(Date.now() - 1_000) } },
      );
      expect(await commitOne(store, scope, 't1', { title: 'b' })).toBe(2);
      await store.close();
    });

    it('reopening the same database on another store object keeps the standalone commits', async () => {
      const store = await newStore({ transactions: false });
      const scope = newScope();
      await commitOne(store, scope, 't0', { title: 'a' });
      const again = mongoStore(store.raw, { transactions: false });
      await again.init();
      expect(await again.head(scope)).toEqual({ seq: 1, horizon: 0 });
      await store.close();
      await again.close();
    });
  },
);
