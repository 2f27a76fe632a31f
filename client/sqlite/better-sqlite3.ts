/** `betterSqlite3Driver(db)`: the SQLite driver contract on better-sqlite3 (Node, Electron); each transaction runs synchronously, so nothing interleaves. */
import type { SqliteDriver, SqliteValue } from './driver.js';

/** The part of a better-sqlite3 `Database` the driver uses (typed structurally: the client does not depend on better-sqlite3). */
export interface BetterSqlite3Database {
  prepare(sql: string): {
    readonly reader: boolean;
    all(...params: unknown[]): unknown[];
    run(...params: unknown[]): unknown;
  };
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
  close(): unknown;
}

/** Prepared statements kept per driver (dropped all at once past this many distinct SQL texts). */
const CACHE = 256;

/**
 * Wraps a better-sqlite3 database (12.x) as a `SqliteDriver`.
 *
 * @example
 * import Database from 'better-sqlite3';
 * const store = sqliteLocalStore(betterSqlite3Driver(new Database('app-sync.db')));
 */
export function betterSqlite3Driver(db: BetterSqlite3Database): SqliteDriver {
  const cache = new Map<string, ReturnType<BetterSqlite3Database['prepare']>>();
  const prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      if (cache.size >= CACHE) cache.clear();
      cache.set(sql, (stmt = db.prepare(sql)));
    }
    return stmt;
  };
  const run = (sql: string, params: readonly SqliteValue[] = []): Record<string, unknown>[] => {
    const stmt = prepare(sql);
    if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
    stmt.run(...params);
    return [];
  };
  return {
    async execute(sql, params) {
      return { rows: run(sql, params) };
    },
    async transaction(statements) {
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const s of statements) run(s.sql, s.params);
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
    async close() {
      cache.clear();
      db.close();
    },
  };
}
