// The SQL store's own tests on real PGlite and real PostgreSQL: locking, LISTEN/NOTIFY, retries, persistence.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import {
  SCHEMA_VERSION,
  pgliteStore,
  postgresStore,
  type PostgresStore,
} from '../../server/stores/postgres/index.js';
import type { StoreEvent, StoreTx } from '../../server/stores/store.js';
import { commit, doc, entry, until } from './sql-fixtures.js';
import { demoSchema } from '../../server/demo/schema.js';
import { createSyncEngine } from '../../server/engine/engine.js';

const url = process.env.TEST_DATABASE_URL;
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

/** Behaviour both drivers must show; run below once per driver (`table`: a table's qualified name in a store). */
function storeBehaviour(
  newStore: () => Promise<PostgresStore>,
  table: (store: PostgresStore, name: string) => string,
) {
  it('writes and reads documents, the oplog and mutation outcomes', async () => {
    const store = await newStore();
    await commit(store, 's1', [
      ['tasks', 'b'],
      ['tasks', 'a'],
      ['notes', 'z'],
    ]);
    await commit(store, 's1', [['tasks', 'a', null]]);
    await commit(store, 's2', [['tasks', 'a']]);

    expect(await store.head('s1')).toEqual({ seq: 2, horizon: 0 });
    expect(await store.head('nobody')).toEqual({ seq: 0, horizon: 0 });

    const all = await store.readOplog('s1', { afterSeq: 0 });
    expect(all.map((e) => [e.seq, e.idx, e.collection, e.id, e.op])).toEqual([
      [1, 0, 'tasks', 'b', 'upsert'],
      [1, 1, 'tasks', 'a', 'upsert'],
      [1, 2, 'notes', 'z', 'upsert'],
      [2, 0, 'tasks', 'a', 'delete'],
    ]);
    expect(all[0]!.at).toBeInstanceOf(Date);
    expect(all[0]!.mutationId).toBe(1);
    expect(typeof all[0]!.seq).toBe('number');
    expect((await store.readOplog('s1', { afterSeq: 0, uptoSeq: 1, limit: 2 })).length).toBe(2);
    expect((await store.readOplog('s1', { afterSeq: 1 })).map((e) => e.seq)).toEqual([2]);
    expect(
      (await store.readOplog('s1', { afterSeq: 0, collections: ['notes'] })).map((e) => e.id),
    ).toEqual(['z']);

    const page1 = await store.scanDocs('s1', { limit: 2 });
    expect(page1.map((d) => `${d.collection}/${d.id}`)).toEqual(['notes/z', 'tasks/a']);
    expect(page1[1]!.deleted).toBe(true);
    const page2 = await store.scanDocs('s1', { limit: 2, after: page1[1]! });
    expect(page2.map((d) => `${d.collection}/${d.id}`)).toEqual(['tasks/b']);
    expect((await store.scanDocs('s1', { limit: 10, collections: ['tasks'] })).length).toBe(2);

    const v1 = doc('s1', 'tasks', 'b', 1).version;
    expect(await store.findVersion('s1', { collection: 'tasks', id: 'b' }, v1)).toEqual({ n: 1 });
    expect(
      await store.findVersion(
        's1',
        { collection: 'tasks', id: 'a' },
        doc('s1', 'tasks', 'a', 2).version,
      ),
    ).toBeNull();
    expect(await store.findVersion('s2', { collection: 'tasks', id: 'b' }, v1)).toBeUndefined();

    await store.transaction('s1', async (tx) => {
      expect((await tx.clientLedger('c1')).lastMutationId).toBe(0);
      const result = {
        mutationId: 7,
        collection: 'tasks',
        id: 'b',
        status: 'accepted' as const,
        version: v1,
      };
      await tx.recordResults('c1', 7, [{ mutationId: 7, result }], new Date(), 'u1');
      expect(await tx.clientLedger('c1')).toEqual({ lastMutationId: 7, owner: 'u1' });
      expect([...(await tx.getResults('c1', [6, 7]))]).toEqual([[7, result]]);
      const docs = await tx.getDocs([
        { collection: 'tasks', id: 'b' },
        { collection: 'tasks', id: 'x' },
      ]);
      expect(docs.map((d) => [d.id, d.seq, d.data])).toEqual([['b', 1, { n: 1 }]]);
    });
    await store.transaction('s2', async (tx) =>
      expect((await tx.clientLedger('c1')).lastMutationId).toBe(0),
    );
  });

  it('keeps one ledger row per push and answers outcomes of any of its mutations', async () => {
    const store = await newStore();
    const result = (mutationId: number, status: 'accepted' | 'rejected' = 'accepted') => ({
      mutationId,
      collection: 'tasks',
      id: `d${mutationId}`,
      status,
      version: `v${mutationId}`,
    });
    const at = new Date();
    await store.transaction('s', (tx) =>
      tx.recordResults(
        'c',
        5,
        [1, 2, 5].map((id) => ({ mutationId: id, result: result(id) })),
        at,
        'u1',
      ),
    );
    await store.transaction('s', (tx) =>
      tx.recordResults(
        'c',
        9,
        [6, 9].map((id) => ({ mutationId: id, result: result(id) })),
        at,
        'u1',
      ),
    );
    await store.transaction('s', (tx) =>
      tx.recordResults('other', 3, [{ mutationId: 3, result: result(3) }], at, 'u1'),
    );
    await store.transaction('s', async (tx) => {
      expect((await tx.clientLedger('c')).lastMutationId).toBe(9);
      const got = await tx.getResults('c', [9, 2, 3, 5, 6, 10]);
      expect([...got.keys()].sort((x, y) => x - y)).toEqual([2, 5, 6, 9]);
      expect(got.get(6)).toEqual(result(6));
      expect((await tx.getResults('other', [1, 2, 3])).get(3)).toEqual(result(3));
      // Recorded again (same last id): the newer outcome wins, the others stay.
      await tx.recordResults('c', 9, [{ mutationId: 9, result: result(9, 'rejected') }], at, 'u1');
      const again = await tx.getResults('c', [6, 9]);
      expect(again.get(9)!.status).toBe('rejected');
      expect(again.get(6)!.status).toBe('accepted');
    });
    const { rows } = await (
      store.raw as { query(sql: string): Promise<{ rows: unknown[] }> }
    ).query(`SELECT count(*)::int AS n FROM ${table(store, 'mutation_batches')}`);
    expect(rows).toEqual([{ n: 3 }]);
    await store.transaction('s2', async (tx) =>
      expect((await tx.getResults('c', [1, 2, 5])).size).toBe(0),
    );
  });

  it('answers lastMutationId from what it committed, never from a rolled-back transaction', async () => {
    const store = await newStore();
    const record = (tx: StoreTx, id: number) =>
      tx.recordResults(
        'c',
        id,
        [{ mutationId: id, result: { status: 'accepted', version: 'v' } }],
        new Date(),
        'u1',
      );
    await store.transaction('s', async (tx) => {
      expect((await tx.clientLedger('c')).lastMutationId).toBe(0);
      await record(tx, 3);
      expect((await tx.clientLedger('c')).lastMutationId).toBe(3);
    });
    await expect(
      store.transaction('s', async (tx) => {
        expect((await tx.clientLedger('c')).lastMutationId).toBe(3);
        await record(tx, 8);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await store.transaction('s', async (tx) =>
      expect((await tx.clientLedger('c')).lastMutationId).toBe(3),
    );
    await store.transaction('s', async (tx) =>
      expect((await tx.clientLedger('c')).lastMutationId).toBe(3),
    );
    await store.transaction('other', async (tx) =>
      expect((await tx.clientLedger('c')).lastMutationId).toBe(0),
    );
  });

  it('rolls back everything when the function throws', async () => {
    const store = await newStore();
    await commit(store, 's', [['tasks', 'a']]);
    await expect(
      store.transaction('s', async (tx) => {
        await tx.putDocs([doc('s', 'tasks', 'b', 2)]);
        await tx.setHead(2);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.head('s')).toEqual({ seq: 1, horizon: 0 });
    expect((await store.scanDocs('s', { limit: 10 })).map((d) => d.id)).toEqual(['a']);
  });

  it('prunes old entries and moves the horizon', async () => {
    const store = await newStore();
    const old = new Date(Date.now() - 60_000);
    await commit(
      store,
      's',
      [
        ['tasks', 'a'],
        ['tasks', 'b'],
      ],
      old,
    );
    await commit(store, 's', [['tasks', 'c']]);
    await commit(store, 'other', [['tasks', 'a']]);
    await store.transaction('s', (tx) =>
      tx.recordResults(
        'c1',
        1,
        [{ mutationId: 1, result: { status: 'accepted', version: 'v' } }],
        old,
        'u1',
      ),
    );
    expect(await store.prune(new Date(Date.now() - 1000))).toEqual({ removed: 2 });
    expect(await store.head('s')).toEqual({ seq: 2, horizon: 1 });
    expect(await store.head('other')).toEqual({ seq: 1, horizon: 0 });
    expect((await store.readOplog('s', { afterSeq: 0 })).map((e) => e.seq)).toEqual([2]);
    await store.transaction('s', async (tx) =>
      expect((await tx.getResults('c1', [1])).size).toBe(0),
    );
  });

  it('announces its own commits to local listeners once', async () => {
    const store = await newStore();
    const events: StoreEvent[] = [];
    const off = store.onEvent((e) => events.push(e));
    await store.listening();
    // PostgreSQL: LISTEN became active, so listeners compare heads; PGlite has no LISTEN.
    expect(events.splice(0)).toEqual(store.kind === 'postgres' ? [{ type: 'reset' }] : []);
    await commit(store, 's', [['tasks', 'a']]);
    await store.transaction('s', async () => undefined); // no setHead: nothing to announce
    await until(() => events.length >= 1);
    // A fence: a second commit; once its event arrived, a duplicate echo of the first would have too.
    await commit(store, 'fence', [['tasks', 'f']]);
    await until(() => events.some((e) => e.type === 'commit' && e.scope === 'fence'));
    expect(events).toEqual([
      { type: 'commit', scope: 's', seq: 1 },
      { type: 'commit', scope: 'fence', seq: 1 },
    ]);
    off();
  });

  it('regression: a store read inside a transaction runs on it (PGlite deadlocked on findVersion)', async () => {
    const store = await newStore();
    await commit(store, 's', [['tasks', 'a']]);
    const seen = await store.transaction('s', async (tx) => {
      const d = doc('s', 'tasks', 'b', tx.head.seq + 1);
      await tx.putDocs([d]);
      await tx.appendOplog([entry(d)]);
      // Resolvers call store methods while the engine's transaction is open.
      return [
        await store.findVersion('s', d, d.version),
        (await store.scanDocs('s', { limit: 10 })).length,
      ];
    });
    expect(seen).toEqual([{ n: 2 }, 2]);
  });

  it('survives init() twice, keeping epoch and data', async () => {
    const store = await newStore();
    const epoch = store.epoch();
    expect(epoch).toMatch(/^[a-z0-9]{10}$/);
    await commit(store, 's', [['tasks', 'a']]);
    await store.init();
    expect(store.epoch()).toBe(epoch);
    expect(await store.head('s')).toEqual({ seq: 1, horizon: 0 });
  });
}

describe('pglite store', () => {
  storeBehaviour(
    async () => {
      const store = await pgliteStore();
      open.push(store);
      await store.init();
      return store;
    },
    (_store, name) => `sync_${name}`,
  );

  it('keeps documents, heads and epoch across close and reopen of its directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sync-pglite-'));
    try {
      const first = await pgliteStore(dir);
      await first.init();
      expect(first.kind).toBe('pglite');
      const epoch = first.epoch();
      await commit(first, 's', [['tasks', 'a', { title: 'kept' }]]);
      await first.close();
      expect(first.raw.closed).toBe(true);

      const second = await pgliteStore(dir);
      open.push(second);
      await second.init();
      expect(second.epoch()).toBe(epoch);
      expect(await second.head('s')).toEqual({ seq: 1, horizon: 0 });
      expect((await second.scanDocs('s', { limit: 10 }))[0]!.data).toEqual({ title: 'kept' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('migrates a version 1 database: per-mutation outcomes still answer retries', async () => {
    const db = new PGlite();
    await db.exec(`
      CREATE TABLE sync_meta (key text PRIMARY KEY, value text NOT NULL);
      INSERT INTO sync_meta VALUES ('epoch', 'oldepoch01'), ('schema_version', '1');
      CREATE TABLE sync_mutations (scope text COLLATE "C" NOT NULL, client_id text COLLATE "C" NOT NULL,
        mutation_id bigint NOT NULL, result jsonb NOT NULL, at timestamptz NOT NULL, PRIMARY KEY (scope, client_id, mutation_id));
      INSERT INTO sync_mutations VALUES ('s', 'c', 4, '{"mutationId":4,"collection":"tasks","id":"a","status":"accepted","version":"v4"}', now());`);
    const store = postgresStore(db, { closeClient: true });
    open.push(store);
    await store.init();
    expect(store.epoch()).toBe('oldepoch01');
    expect(
      (await db.query(`SELECT value FROM sync_meta WHERE key = 'schema_version'`)).rows,
    ).toEqual([{ value: String(SCHEMA_VERSION) }]);
    await store.transaction('s', async (tx) => {
      expect((await tx.getResults('c', [3, 4])).get(4)).toEqual({
        mutationId: 4,
        collection: 'tasks',
        id: 'a',
        status: 'accepted',
        version: 'v4',
      });
    });
    await store.init(); // idempotent afterwards
  });

  it('migrates a version 2 database: ledgers keep their last id and get an owner at their next push', async () => {
    const db = new PGlite();
    const first = postgresStore(db);
    await first.init();
    await first.transaction('s', (tx) =>
      tx.recordResults(
        'c',
        4,
        [{ mutationId: 4, result: { status: 'accepted', version: 'v4' } }],
        new Date(),
        'u1',
      ),
    );
    // Back to version 2's layout: no owner column.
    await db.exec(
      `ALTER TABLE sync_clients DROP COLUMN owner; UPDATE sync_meta SET value = '2' WHERE key = 'schema_version';`,
    );
    const store = postgresStore(db, { closeClient: true });
    open.push(store);
    await store.init();
    expect(
      (await db.query(`SELECT value FROM sync_meta WHERE key = 'schema_version'`)).rows,
    ).toEqual([{ value: String(SCHEMA_VERSION) }]);
    await store.transaction('s', async (tx) => {
      expect(await tx.clientLedger('c')).toEqual({ lastMutationId: 4, owner: null });
      expect((await tx.getResults('c', [4])).get(4)).toEqual({ status: 'accepted', version: 'v4' });
      await tx.recordResults(
        'c',
        5,
        [{ mutationId: 5, result: { status: 'accepted', version: 'v5' } }],
        new Date(),
        'u2',
      );
    });
    await store.transaction('s', async (tx) =>
      expect(await tx.clientLedger('c')).toEqual({ lastMutationId: 5, owner: 'u2' }),
    );
  });

  it('migrates a version 3 database: integrity checksums are computed from the documents already stored', async () => {
    const db = new PGlite();
    const first = postgresStore(db);
    await first.init();
    const engine = createSyncEngine({
      store: first,
      schema: demoSchema,
      retention: { pruneIntervalMs: 0 },
    });
    await engine.write('s', [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'one' } },
      { collection: 'tasks', id: 'b', op: 'upsert', data: { title: 'two' } },
      { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'x' } },
    ]);
    await engine.write('s', [{ collection: 'tasks', id: 'b', op: 'delete' }]);
    const expected = (await engine.pull({ userId: 'u', scopeId: 's' }, {})).checksums;
    await engine.close();
    // Back to version 3's layout: no checksums.
    await db.exec(
      `ALTER TABLE sync_scopes DROP COLUMN checksums; UPDATE sync_meta SET value = '3' WHERE key = 'schema_version';`,
    );
    const store = postgresStore(db, { closeClient: true });
    open.push(store);
    await store.init();
    expect(
      (await db.query(`SELECT value FROM sync_meta WHERE key = 'schema_version'`)).rows,
    ).toEqual([{ value: String(SCHEMA_VERSION) }]);
    const again = createSyncEngine({
      store,
      schema: demoSchema,
      retention: { pruneIntervalMs: 0 },
    });
    expect((await again.pull({ userId: 'u', scopeId: 's' }, {})).checksums).toEqual(expected);
    expect(await again.verifyChecksums('s')).toMatchObject({ seq: 2, mismatches: 0 });
    expect((await store.checksums('s')).map((c) => [c.collection, c.seq]).sort()).toEqual([
      ['notes', 2],
      ['tasks', 2],
    ]);
    await again.close();
  });

  it('migrates a version 4 database: oplog entries get a pre-image column; older entries read as having none', async () => {
    const db = new PGlite();
    const first = postgresStore(db);
    await first.init();
    await commit(first, 's', [['tasks', 'a', { title: 'before the upgrade' }]]);
    // Back to version 4's layout: no pre-images.
    await db.exec(
      `ALTER TABLE sync_oplog DROP COLUMN before; UPDATE sync_meta SET value = '4' WHERE key = 'schema_version';`,
    );
    const store = postgresStore(db, { closeClient: true });
    open.push(store);
    await store.init();
    expect(
      (await db.query(`SELECT value FROM sync_meta WHERE key = 'schema_version'`)).rows,
    ).toEqual([{ value: String(SCHEMA_VERSION) }]);
    const engine = createSyncEngine({
      store,
      schema: demoSchema,
      retention: { pruneIntervalMs: 0 },
      rules: { all: { collection: 'tasks', fields: ['title'] } },
    });
    await engine.write('s', [
      { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'after' } },
    ]);
    const entries = await store.readOplog('s', { afterSeq: 0 });
    expect(entries.map((e) => e.before)).toEqual([undefined, { title: 'before the upgrade' }]);
    await engine.close();
  });

  it('exposes live documents as views when collections are named', async () => {
    const store = await pgliteStore(undefined, { collections: ['tasks'] });
    open.push(store);
    await store.init();
    await commit(store, 's', [
      ['tasks', 'a', { title: 'x' }],
      ['tasks', 'b', null],
      ['notes', 'c'],
    ]);
    const { rows } = await store.raw.query<{ id: string; data: unknown }>(
      `SELECT id, data FROM sync_live_tasks WHERE scope = 's'`,
    );
    expect(rows).toEqual([{ id: 'a', data: { title: 'x' } }]);
  });

  it('rejects a bad option with a message naming it', () => {
    expect(() => postgresStore({} as pg.Pool, { notifyChannel: 'no spaces allowed' })).toThrow(
      /notifyChannel/,
    );
  });
});

describe.skipIf(!url)('postgres store', () => {
  const schemas: string[] = [];
  const schemaOf = new WeakMap<PostgresStore, string>();
  const admin = url ? new pg.Pool({ connectionString: url, max: 2 }) : null;

  /** A store on its own pool, in `schema` (shared by stores that must see each other). */
  async function pgStore(schema: string, options: Parameters<typeof postgresStore>[1] = {}) {
    if (!schemas.includes(schema)) schemas.push(schema);
    const pool = new pg.Pool({ connectionString: url, max: 5 });
    const store = postgresStore(pool, {
      schema,
      notifyChannel: schema,
      closeClient: true,
      ...options,
    });
    schemaOf.set(store, schema);
    open.push(store);
    await store.init();
    return store;
  }
  const freshSchema = () => `t_${randomBytes(6).toString('hex')}`;

  afterAll(async () => {
    for (const schema of schemas) await admin!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
  });

  storeBehaviour(
    () => pgStore(freshSchema()),
    (store, name) => `"${schemaOf.get(store)}".sync_${name}`,
  );

  it('gives concurrent writers of one scope on two pools consecutive seqs, committed in seq order', async () => {
    const schema = freshSchema();
    const [a, b] = [await pgStore(schema), await pgStore(schema)];
    expect(a.kind).toBe('postgres');
    const perStore = 15;
    const write = (store: PostgresStore) =>
      store.transaction('s', async (tx) => {
        // Read-modify-write of one counter: each writer must see the previous writer's commit.
        const [current] = await tx.getDocs([{ collection: 'c', id: 'counter' }]);
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        const seq = tx.head.seq + 1;
        const next = doc('s', 'c', 'counter', seq, {
          value: Number(current?.data?.value ?? 0) + 1,
        });
        await tx.putDocs([next]);
        await tx.appendOplog([entry(next)]);
        await tx.setHead(seq);
        return seq;
      });
    const seqs = await Promise.all(
      Array.from({ length: perStore * 2 }, (_, i) => write(i % 2 ? a : b)),
    );
    expect([...seqs].sort((x, y) => x - y)).toEqual(
      Array.from({ length: perStore * 2 }, (_, i) => i + 1),
    );
    const log = await a.readOplog('s', { afterSeq: 0 });
    // The value written at seq k is k: commit k-1 was visible to writer k, so commits follow seq order.
    expect(log.map((e) => e.data?.value)).toEqual(log.map((e) => e.seq));
    expect(await b.head('s')).toEqual({ seq: perStore * 2, horizon: 0 });
  });

  /** Two stores on one schema; B listens (its first LISTEN announces itself with a reset, checked and cleared). */
  async function listeningPair() {
    const schema = freshSchema();
    const [a, b] = [await pgStore(schema), await pgStore(schema)];
    const events: StoreEvent[] = [];
    b.onEvent((e) => events.push(e));
    await b.listening();
    expect(events.splice(0)).toEqual([{ type: 'reset' }]);
    return { schema, a, b, events };
  }

  it('delivers a commit of store A to a listener of store B', async () => {
    const { a, events } = await listeningPair();
    await commit(a, 'scope with spaces', [['tasks', 'a']]);
    await until(() => events.length > 0);
    expect(events).toEqual([{ type: 'commit', scope: 'scope with spaces', seq: 1 }]);
  });

  it('listens again after its LISTEN connection is terminated, emitting reset', async () => {
    const { schema, a, events } = await listeningPair();
    const { rows } = await admin!.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
      [`LISTEN "${schema}"`],
    );
    expect(rows).toEqual([{ done: true }]);
    await until(() => events.some((e) => e.type === 'reset'));
    await commit(a, 's', [['tasks', 'a']]);
    await until(() => events.some((e) => e.type === 'commit'));
    expect(events).toEqual([{ type: 'reset' }, { type: 'commit', scope: 's', seq: 1 }]);
  });

  it('sees the last mutation id another store moved (its own cached value is then stale)', async () => {
    const schema = freshSchema();
    const [a, b] = [await pgStore(schema), await pgStore(schema)];
    const record = (tx: StoreTx, id: number) =>
      tx.recordResults(
        'c',
        id,
        [{ mutationId: id, result: { status: 'accepted', version: 'v' } }],
        new Date(),
        'u1',
      );
    for (let round = 1; round <= 3; round++) {
      await a.transaction('s', async (tx) => {
        expect((await tx.clientLedger('c')).lastMutationId).toBe(round === 1 ? 0 : round * 10 - 5);
        await record(tx, round * 10);
      });
      await a.transaction('s', async (tx) =>
        expect((await tx.clientLedger('c')).lastMutationId).toBe(round * 10),
      );
      await b.transaction('s', async (tx) => {
        expect((await tx.clientLedger('c')).lastMutationId).toBe(round * 10);
        await record(tx, round * 10 + 5);
      });
    }
    await a.transaction('s', async (tx) =>
      expect((await tx.clientLedger('c')).lastMutationId).toBe(35),
    );
  });

  it('takes the lock of a scope whose name has quotes and backslashes (inlined with BEGIN)', async () => {
    const store = await pgStore(freshSchema());
    const scope = `it's a \\ "scope" \\'; --`;
    await commit(store, scope, [['tasks', 'a']]);
    await commit(store, scope, [['tasks', 'b']]);
    expect(await store.head(scope)).toEqual({ seq: 2, horizon: 0 });
    expect((await store.scanDocs(scope, { limit: 10 })).map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('runs a transaction again after a serialization failure', async () => {
    const schema = freshSchema();
    const store = await pgStore(schema);
    // A trigger fails the first insert with 40001; the sequence is not rolled back, so only once.
    await admin!.query(`CREATE SEQUENCE "${schema}".fail_once`);
    await admin!
      .query(`CREATE FUNCTION "${schema}".fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('"${schema}".fail_once') = 1 THEN
          RAISE EXCEPTION 'forced serialization failure' USING ERRCODE = '40001';
        END IF;
        RETURN NEW;
      END $$`);
    await admin!.query(
      `CREATE TRIGGER fail_once BEFORE INSERT ON "${schema}".sync_docs FOR EACH ROW EXECUTE FUNCTION "${schema}".fail_once()`,
    );
    let runs = 0;
    const seq = await store.transaction('s', async (tx) => {
      runs++;
      const d = doc('s', 'tasks', 'a', tx.head.seq + 1);
      await tx.putDocs([d]);
      await tx.appendOplog([entry(d)]);
      await tx.setHead(d.seq);
      return d.seq;
    });
    expect({ runs, seq }).toEqual({ runs: 2, seq: 1 });
    expect(await store.head('s')).toEqual({ seq: 1, horizon: 0 });
  });

  it('does not retry other errors, nor beyond maxRetries', async () => {
    const store = await pgStore(freshSchema(), { maxRetries: 2 });
    let runs = 0;
    await expect(
      store.transaction('s', async () => {
        runs++;
        throw new Error('app error');
      }),
    ).rejects.toThrow('app error');
    expect(runs).toBe(1);
    runs = 0;
    const forced = Object.assign(new Error('deadlock'), { code: '40P01' });
    await expect(
      store.transaction('s', async () => {
        runs++;
        throw forced;
      }),
    ).rejects.toBe(forced);
    expect(runs).toBe(3);
  });

  it('lets two processes init one empty schema at once', async () => {
    const schema = freshSchema();
    const pools = [
      new pg.Pool({ connectionString: url, max: 2 }),
      new pg.Pool({ connectionString: url, max: 2 }),
    ];
    const stores = pools.map((pool) => postgresStore(pool, { schema, closeClient: true }));
    schemas.push(schema);
    open.push(...stores);
    await Promise.all(stores.map((s) => s.init()));
    expect(stores[0]!.epoch()).toBe(stores[1]!.epoch());
  });
});
