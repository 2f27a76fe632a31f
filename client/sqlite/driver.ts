/** The minimal async SQLite driver contract `sqliteLocalStore` runs on; each ready driver adapts one library to it in a few lines. */

/** A value bound to a `?` placeholder (the store binds only these). */
export type SqliteValue = string | number | null;

/** One statement with its bound values. */
export interface SqliteStatement {
  sql: string;
  params: readonly SqliteValue[];
}

/** Rows of a statement, one object per row keyed by column name (empty for statements that return none). */
export interface SqliteResult {
  rows: Record<string, unknown>[];
}

/**
 * What `sqliteLocalStore` needs from a SQLite library. The store runs one statement at a time
 * (never two calls at once) and never interpolates values into SQL.
 *
 * @example
 * const driver: SqliteDriver = {
 *   execute: async (sql, params = []) => ({ rows: db.prepare(sql).all(...params) }),
 * };
 */
export interface SqliteDriver {
  /** Runs one statement with its `?` placeholders bound to `params`, answering its rows. */
  execute(sql: string, params?: readonly SqliteValue[]): Promise<SqliteResult>;
  /**
   * Runs `statements` in order as one transaction: all committed, or (on any error) none, and the
   * error rethrown. Optional: without it the store brackets the statements with
   * `BEGIN IMMEDIATE` … `COMMIT` (`ROLLBACK` on error) through `execute`.
   */
  transaction?(statements: readonly SqliteStatement[]): Promise<void>;
  /** False when the database cannot use `PRAGMA journal_mode=WAL` (e.g. a browser VFS). @default true */
  wal?: boolean;
  /** Closes the database (called by the store's `close()`). */
  close?(): Promise<void>;
}

/** Runs `statements` as one transaction on a driver that has only `execute`. */
export async function runTransaction(
  driver: SqliteDriver,
  statements: readonly SqliteStatement[],
): Promise<void> {
  if (driver.transaction) return driver.transaction(statements);
  await driver.execute('BEGIN IMMEDIATE');
  try {
    for (const s of statements) await driver.execute(s.sql, s.params);
    await driver.execute('COMMIT');
  } catch (error) {
    await driver.execute('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
