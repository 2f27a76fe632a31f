/** `sqliteLocalStore(driver, options?)`: a durable `LocalStore` in three SQLite tables (documents, outbox, meta), one transaction per `write()`. */
import {
  DEFAULT_PAGE,
  type DocQuery,
  type LocalDoc,
  type LocalMeta,
  type LocalStore,
  type LocalWrite,
  type OutboxEntry,
  type OutboxQuery,
} from '../local-store.js';
import { checkQuery, runQuery } from '../query.js';
import {
  runTransaction,
  type SqliteDriver,
  type SqliteStatement,
  type SqliteValue,
} from './driver.js';
import { querySql, sqlCanAnswer } from './query-sql.js';
import { migrationStatements, SCHEMA_VERSION, schemaStatements, tableNames } from './schema.js';

/** Options of `sqliteLocalStore`. */
export interface SqliteLocalStoreOptions {
  /** Prefix of the store's table names (`<prefix>docs`, `<prefix>outbox`, `<prefix>meta`), so the app's own tables can share the database. @default 'sync_' */
  tablePrefix?: string;
  /**
   * `PRAGMA synchronous`. `FULL` syncs the WAL to disk at every commit: a `write()` that resolved
   * survives a power cut or OS crash, not only an app crash. `NORMAL` (in WAL mode) skips that sync:
   * faster commits, still never corrupt and still safe against the app being killed, but the last
   * few transactions can be lost if the device loses power. @default 'FULL'
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** Switch the database to `journal_mode=WAL` (readers never block the writer; fewer syncs). Ignored when the driver says `wal: false`. @default true */
  wal?: boolean;
  /** Close the driver's database in the store's `close()`. @default true */
  closeDriver?: boolean;
}

/** A `LocalStore` on SQLite; `driver` is the raw driver, as an escape hatch. */
export interface SqliteLocalStore extends LocalStore {
  readonly driver: SqliteDriver;
  /** Waits for the calls under way, then closes the driver's database (unless `closeDriver: false`). */
  close(): Promise<void>;
}

/** Most `?` values of one `IN (…)` list (under SQLite's oldest limit of 999 variables per statement). */
const CHUNK = 500;

const json = (value: unknown): string => {
  const text = JSON.stringify(value);
  if (text === undefined)
    throw new Error(`sqliteLocalStore: value cannot be stored as JSON: ${String(value)}`);
  return text;
};
const parse = (text: unknown): never =>
  (text === null || text === undefined ? null : JSON.parse(text as string)) as never;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function toDoc(row: Record<string, unknown>): LocalDoc {
  const doc: LocalDoc = {
    collection: row.collection as string,
    id: row.id as string,
    data: parse(row.data),
    version: (row.version as string | null) ?? null,
    server: parse(row.server),
  };
  if (row.pending !== null && row.pending !== undefined)
    doc.pending = row.pending === 1 || row.pending === 1n;
  if (row.mark !== null && row.mark !== undefined) doc.mark = parse(row.mark);
  if (row.views !== null && row.views !== undefined) doc.views = parse(row.views);
  return doc;
}

/**
 * Creates a local store on a SQLite database reached through `driver` (see `betterSqlite3Driver`,
 * `expoSqliteDriver`, `opSqliteDriver`). Tables are created on first use; the schema version is
 * kept in `PRAGMA user_version`. Calls are queued, so the store runs one statement at a time.
 *
 * @example
 * import Database from 'better-sqlite3';
 * const store = sqliteLocalStore(betterSqlite3Driver(new Database('app-sync.db')));
 * const client = createSyncClient({ api: trpc.sync, schema, store });
 */
export function sqliteLocalStore(
  driver: SqliteDriver,
  options: SqliteLocalStoreOptions = {},
): SqliteLocalStore {
  const t = tableNames(options.tablePrefix ?? 'sync_');
  const synchronous = options.synchronous ?? 'FULL';
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL')
    throw new Error(
      `sqliteLocalStore: synchronous must be 'FULL' or 'NORMAL', got ${JSON.stringify(synchronous)}`,
    );
  const ready = open();
  let queue: Promise<unknown> = ready.catch(() => undefined);
  let closed = false;

  async function open(): Promise<void> {
    if (options.wal !== false && driver.wal !== false)
      await driver.execute('PRAGMA journal_mode=WAL');
    await driver.execute(`PRAGMA synchronous=${synchronous}`);
    const version = Number(
      (await driver.execute('PRAGMA user_version')).rows[0]?.user_version ?? 0,
    );
    if (version > SCHEMA_VERSION)
      throw new Error(
        `sqliteLocalStore: the database has schema version ${version}, newer than this library's ${SCHEMA_VERSION}; upgrade trpc-offline-sync`,
      );
    await runTransaction(
      driver,
      [...schemaStatements(t), ...(version > 0 ? migrationStatements(t, version) : [])].map(
        (sql) => ({ sql, params: [] }),
      ),
    );
    if (version < SCHEMA_VERSION) await driver.execute(`PRAGMA user_version=${SCHEMA_VERSION}`);
  }

  /** Runs `task` after every earlier call (the first waits for the schema); a failed call does not block the next. */
  function serial<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(async () => {
      await ready;
      if (closed) throw new Error('sqliteLocalStore: the store is closed');
      return task();
    });
    queue = run.catch(() => undefined);
    return run;
  }
  const rows = async (sql: string, params: SqliteValue[]) =>
    (await driver.execute(sql, params)).rows;

  /** The statements of one batch, all built (and every value serialized) before any runs. */
  function statements(writes: LocalWrite[]): SqliteStatement[] {
    const out: SqliteStatement[] = [];
    for (const w of writes) {
      if (w.type === 'putDoc') {
        const d = w.doc;
        out.push({
          sql: `INSERT OR REPLACE INTO ${t.docs} (collection, id, data, version, server, pending, mark, views, live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          params: [
            d.collection,
            d.id,
            d.data === null ? null : json(d.data),
            d.version ?? null,
            d.server === null ? null : json(d.server),
            d.pending === undefined ? null : d.pending ? 1 : 0,
            d.mark === undefined ? null : json(d.mark),
            d.views === undefined || d.views === null ? null : json(d.views),
            d.data === null ? 0 : 1,
          ],
        });
      } else if (w.type === 'deleteDoc') {
        out.push({
          sql: `DELETE FROM ${t.docs} WHERE collection = ? AND id = ?`,
          params: [w.collection, w.id],
        });
      } else if (w.type === 'appendOutbox') {
        const e = w.entry;
        if (!Number.isSafeInteger(e.mutationId) || e.mutationId < 1)
          throw new Error(`outbox: mutation id must be a positive integer, got ${e.mutationId}`);
        out.push({
          sql: `INSERT INTO ${t.outbox} (mutation_id, collection, id, entry) VALUES (?, ?, ?, ?)`,
          params: [e.mutationId, e.collection, e.id, json(e)],
        });
      } else if (w.type === 'removeOutbox') {
        for (const part of chunks(w.mutationIds))
          out.push({
            sql: `DELETE FROM ${t.outbox} WHERE mutation_id IN (${part.map(() => '?').join(', ')})`,
            params: part,
          });
      } else {
        out.push({
          sql: `INSERT OR REPLACE INTO ${t.meta} (key, value) VALUES (?, ?)`,
          params: [w.key, json(w.value ?? null)],
        });
      }
    }
    return out;
  }

  async function queryDocs(collection: string, query: DocQuery): Promise<LocalDoc[]> {
    checkQuery(query);
    if (sqlCanAnswer(query)) {
      const s = querySql(t.docs, collection, query);
      return (await rows(s.sql, [...s.params])).map(toDoc);
    }
    // A field name a JSON path cannot quote: read the collection in pages and evaluate in JS.
    const all: LocalDoc[] = [];
    let after: string | null = null;
    for (;;) {
      const page: LocalDoc[] = (
        await rows(
          `SELECT * FROM ${t.docs} WHERE collection = ? AND live = 1 AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?`,
          [collection, after, after, DEFAULT_PAGE],
        )
      ).map(toDoc);
      all.push(...page);
      if (page.length < DEFAULT_PAGE) break;
      after = page[page.length - 1]!.id;
    }
    return runQuery(all, query);
  }

  return {
    driver,
    getDoc: (collection, id) =>
      serial(async () => {
        const [row] = await rows(`SELECT * FROM ${t.docs} WHERE collection = ? AND id = ?`, [
          collection,
          id,
        ]);
        return row ? toDoc(row) : null;
      }),
    getDocs: (collection, ids) =>
      serial(async () => {
        const found = new Map<string, LocalDoc>();
        for (const part of chunks([...new Set(ids)])) {
          for (const row of await rows(
            `SELECT * FROM ${t.docs} WHERE collection = ? AND id IN (${part.map(() => '?').join(', ')})`,
            [collection, ...part],
          ))
            found.set(row.id as string, toDoc(row));
        }
        const given = new Set<string>();
        return ids.map((id) => {
          const doc = found.get(id);
          if (!doc) return null;
          if (!given.has(id)) return (given.add(id), doc);
          return JSON.parse(JSON.stringify(doc)) as LocalDoc;
        });
      }),
    listDocs: (collection, page = {}) =>
      serial(async () => {
        const limit = page.limit ?? DEFAULT_PAGE;
        if (page.after === undefined)
          return (
            await rows(`SELECT * FROM ${t.docs} WHERE collection = ? ORDER BY id LIMIT ?`, [
              collection,
              limit,
            ])
          ).map(toDoc);
        return (
          await rows(
            `SELECT * FROM ${t.docs} WHERE collection = ? AND id > ? ORDER BY id LIMIT ?`,
            [collection, page.after, limit],
          )
        ).map(toDoc);
      }),
    countDocs: (collection) =>
      serial(async () =>
        Number(
          (
            await rows(`SELECT count(*) AS n FROM ${t.docs} WHERE collection = ? AND live = 1`, [
              collection,
            ])
          )[0]!.n,
        ),
      ),
    queryDocs: (collection, query) => serial(() => queryDocs(collection, query)),
    listOutbox: (query: OutboxQuery = {}) =>
      serial(async () => {
        const where = ['mutation_id > ?'];
        const params: SqliteValue[] = [query.afterMutationId ?? 0];
        if (query.collection !== undefined) {
          where.push('collection = ?');
          params.push(query.collection);
          if (query.id !== undefined) {
            where.push('id = ?');
            params.push(query.id);
          }
        }
        params.push(query.limit ?? -1);
        return (
          await rows(
            `SELECT entry FROM ${t.outbox} WHERE ${where.join(' AND ')} ORDER BY mutation_id LIMIT ?`,
            params,
          )
        ).map((r) => JSON.parse(r.entry as string) as OutboxEntry);
      }),
    countOutbox: () =>
      serial(async () => Number((await rows(`SELECT count(*) AS n FROM ${t.outbox}`, []))[0]!.n)),
    getMeta: <K extends keyof LocalMeta>(key: K) =>
      serial(async () => {
        const [row] = await rows(`SELECT value FROM ${t.meta} WHERE key = ?`, [key]);
        return (row ? parse(row.value) : null) as LocalMeta[K] | null;
      }),
    write: (writes) =>
      serial(async () => {
        const list = statements(writes);
        if (list.length > 0) await runTransaction(driver, list);
      }),
    close() {
      const run = queue.then(async () => {
        if (closed) return;
        closed = true;
        await ready.catch(() => undefined);
        if (options.closeDriver !== false) await driver.close?.();
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
