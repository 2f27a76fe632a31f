/** The client-store conformance suite on `sqliteLocalStore` through better-sqlite3, and through fakes of expo-sqlite and op-sqlite backed by better-sqlite3; plus SQLite specifics. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalStore } from '../../client/index.js';
import {
  betterSqlite3Driver,
  expoSqliteDriver,
  opSqliteDriver,
  sqliteLocalStore,
  type SqliteDriver,
  type SqliteLocalStore,
} from '../../client/sqlite/index.js';
import { runLocalStoreConformance } from './conformance.js';
import { fakeExpoDatabase, fakeOpSqliteDatabase } from './sqlite-fakes.js';

const dir = mkdtempSync(join(tmpdir(), 'sqlite-local-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A driver whose next transaction fails at its 3rd statement (replaced by SQL the database refuses), after two statements really ran. */
function failable(driver: SqliteDriver): SqliteDriver & { failNext: boolean } {
  const wrapped = {
    ...driver,
    failNext: false,
    async transaction(statements: Parameters<NonNullable<SqliteDriver['transaction']>>[0]) {
      const fail = wrapped.failNext;
      wrapped.failNext = false;
      const list = fail
        ? statements.map((s, i) =>
            i === 2 ? { sql: 'INSERT INTO no_such_table VALUES (1)', params: [] } : s,
          )
        : statements;
      return driver.transaction!(list);
    },
  };
  return wrapped;
}

const files = new WeakMap<LocalStore, string>();
const drivers = new WeakMap<LocalStore, ReturnType<typeof failable>>();

function fixture(name: string, makeDriver: (db: Database.Database) => SqliteDriver) {
  const openFile = (file: string) => {
    const driver = failable(makeDriver(new Database(file)));
    const store = sqliteLocalStore(driver);
    files.set(store, file);
    drivers.set(store, driver);
    return store;
  };
  runLocalStoreConformance({
    name,
    open: async () => openFile(join(dir, `${name}-${++n}.db`)),
    reopen: async (store) => {
      await store.close!();
      return openFile(files.get(store)!);
    },
    failNextWrite: (store) => {
      drivers.get(store)!.failNext = true;
    },
  });
}

fixture('sqlite (better-sqlite3)', (db) => betterSqlite3Driver(db));
fixture('sqlite (expo-sqlite fake)', (db) => expoSqliteDriver(fakeExpoDatabase(db)));
fixture('sqlite (expo-sqlite fake, withTransactionAsync)', (db) =>
  expoSqliteDriver(fakeExpoDatabase(db), { exclusive: false }),
);
fixture('sqlite (op-sqlite fake)', (db) => opSqliteDriver(fakeOpSqliteDatabase(db)));

describe('sqliteLocalStore specifics', () => {
  const open = (
    options?: Parameters<typeof sqliteLocalStore>[1],
    file = join(dir, `spec-${++n}.db`),
  ) => {
    const db = new Database(file);
    return {
      db,
      file,
      store: sqliteLocalStore(betterSqlite3Driver(db), options) as SqliteLocalStore,
    };
  };

  it('uses WAL, the chosen synchronous level and records its schema version', async () => {
    const { db, store } = open();
    await store.countOutbox();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    await store.close();
    const other = open({ synchronous: 'NORMAL' });
    await other.store.countOutbox();
    expect(other.db.pragma('synchronous', { simple: true })).toBe(1);
    await other.store.close();
  });

  it('upgrades a version 1 database in place: its documents stay and gain the views column', async () => {
    const file = join(dir, `v1-${++n}.db`);
    const db = new Database(file);
    db.exec(
      `CREATE TABLE sync_docs (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT, version TEXT, server TEXT, pending INTEGER, mark TEXT, live INTEGER NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID`,
    );
    db.exec(
      `INSERT INTO sync_docs VALUES ('tasks', 'a', '{"x":1}', NULL, '{"x":1}', NULL, NULL, 1)`,
    );
    db.pragma('user_version = 1');
    db.close();
    const { db: reopened, store } = open({}, file);
    expect(await store.getDoc('tasks', 'a')).toEqual({
      collection: 'tasks',
      id: 'a',
      data: { x: 1 },
      version: null,
      server: { x: 1 },
    });
    await store.write([
      {
        type: 'putDoc',
        doc: {
          collection: 'tasks',
          id: 'a',
          data: { x: 1 },
          version: null,
          server: { x: 1 },
          views: { mine: '' },
        },
      },
    ]);
    expect((await store.getDoc('tasks', 'a'))!.views).toEqual({ mine: '' });
    expect(reopened.pragma('user_version', { simple: true })).toBe(2);
    await store.close();
  });

  it('refuses a database written by a newer schema, with a clear error', async () => {
    const file = join(dir, `newer-${++n}.db`);
    const db = new Database(file);
    db.pragma('user_version = 7');
    db.close();
    const { store } = open({}, file);
    await expect(store.countOutbox()).rejects.toThrow(/schema version 7, newer/);
  });

  it('keeps its tables under the prefix, next to the app tables', async () => {
    const { db, store } = open({ tablePrefix: 'app_sync_' });
    await store.write([
      {
        type: 'putDoc',
        doc: { collection: 'tasks', id: 'a', data: { x: 1 }, version: null, server: null },
      },
    ]);
    const tables = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect(tables).toEqual(['app_sync_docs', 'app_sync_meta', 'app_sync_outbox']);
    await store.close();
    expect(() =>
      sqliteLocalStore(betterSqlite3Driver(new Database(':memory:')), {
        tablePrefix: 'x; DROP TABLE y',
      }),
    ).toThrow(/tablePrefix/);
  });

  it('answers queries in SQL, also on field names that need quoting, and in JS on names a JSON path cannot hold', async () => {
    const { store } = open();
    await store.write([
      {
        type: 'putDoc',
        doc: {
          collection: 'tasks',
          id: 'a',
          data: { 'a.b': 1, "it's": 'x', 'q"uote': true, '$[0]': 2 },
          version: null,
          server: null,
        },
      },
      {
        type: 'putDoc',
        doc: {
          collection: 'tasks',
          id: 'b',
          data: { 'a.b': 2, "it's": 'y', 'q"uote': false, '$[0]': 1 },
          version: null,
          server: null,
        },
      },
    ]);
    const ids = (docs: { id: string }[]) => docs.map((d) => d.id);
    expect(ids(await store.queryDocs('tasks', { where: { 'a.b': 2 } }))).toEqual(['b']);
    expect(ids(await store.queryDocs('tasks', { where: { "it's": 'x' } }))).toEqual(['a']);
    expect(ids(await store.queryDocs('tasks', { where: { 'q"uote': false } }))).toEqual(['b']);
    expect(ids(await store.queryDocs('tasks', { orderBy: { field: '$[0]' } }))).toEqual(['b', 'a']);
    expect(
      ids(await store.queryDocs('tasks', { orderBy: { field: 'q"uote', direction: 'desc' } })),
    ).toEqual(['a', 'b']);
    await expect(store.queryDocs('tasks', { where: { x: {} as never } })).rejects.toThrow(
      /where\.x/,
    );
    await store.close();
  });

  it('uses the table indexes for reads by key, counts, outbox ranges and documents', async () => {
    const { db, store } = open();
    await store.countOutbox();
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[])
        .map((r) => r.detail)
        .join(' | ');
    expect(plan(`SELECT count(*) FROM sync_docs WHERE collection = 'x' AND live = 1`)).toMatch(
      /COVERING INDEX sync_docs_live/,
    );
    expect(
      plan(`SELECT * FROM sync_docs WHERE collection = 'x' AND id > 'a' ORDER BY id LIMIT 5`),
    ).toMatch(/USING PRIMARY KEY/);
    expect(
      plan(
        `SELECT entry FROM sync_outbox WHERE mutation_id > 3 AND collection = 'x' AND id = 'y' ORDER BY mutation_id`,
      ),
    ).toMatch(/sync_outbox_doc|INTEGER PRIMARY KEY/);
    await store.close();
  });

  it('runs one transaction per write() on the React Native drivers', async () => {
    const expo = fakeExpoDatabase(new Database(join(dir, `tx-${++n}.db`)));
    const op = fakeOpSqliteDatabase(new Database(join(dir, `tx-${++n}.db`)));
    for (const [fake, store] of [
      [expo, sqliteLocalStore(expoSqliteDriver(expo))],
      [op, sqliteLocalStore(opSqliteDriver(op))],
    ] as const) {
      await store.countOutbox();
      const before = fake.transactions;
      await store.write(
        Array.from({ length: 50 }, (_, i) => ({
          type: 'putDoc' as const,
          doc: { collection: 't', id: `d${i}`, data: { i }, version: null, server: null },
        })),
      );
      expect(fake.transactions - before).toBe(1);
      expect(await store.countDocs('t')).toBe(50);
      await store.close!();
    }
  });

  it('reads 1,200 documents by key across IN chunks, in the order asked', async () => {
    const { store } = open();
    await store.write(
      Array.from({ length: 1200 }, (_, i) => ({
        type: 'putDoc' as const,
        doc: { collection: 't', id: `d${i}`, data: { i }, version: null, server: null },
      })),
    );
    const ask = Array.from({ length: 1201 }, (_, i) => `d${1200 - i}`);
    const got = await store.getDocs('t', ask);
    expect(got[0]).toBeNull();
    expect(got.slice(1).map((d) => d!.data!.i)).toEqual(
      Array.from({ length: 1200 }, (_, i) => 1199 - i),
    );
    await store.close();
  });
});
