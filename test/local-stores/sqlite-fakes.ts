/** Fakes of expo-sqlite's and op-sqlite's documented async APIs backed by a real better-sqlite3 database, so the drivers' SQL really runs. */
import type Database from 'better-sqlite3';
import type {
  ExpoSqliteDatabase,
  OpSqliteDatabase,
  SqliteValue,
} from '../../client/sqlite/index.js';

type Db = Database.Database;

const rowsOf = (db: Db, sql: string, params: readonly SqliteValue[]) => {
  const stmt = db.prepare(sql);
  if (stmt.reader) return stmt.all(...params) as Record<string, unknown>[];
  stmt.run(...params);
  return [];
};

/** Runs `task` between BEGIN and COMMIT, rolling back and rethrowing when it throws (as both libraries document). */
async function inTransaction(db: Db, begin: string, task: () => Promise<void>): Promise<void> {
  db.exec(begin);
  try {
    await task();
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** expo-sqlite's `SQLiteDatabase` (`getAllAsync`, `runAsync`, `withExclusiveTransactionAsync`, `withTransactionAsync`, `closeAsync`) on better-sqlite3. */
export function fakeExpoDatabase(db: Db): ExpoSqliteDatabase & { transactions: number } {
  const runAsync = async (source: string, params: SqliteValue[]) => {
    const info = db.prepare(source).run(...params);
    return { lastInsertRowId: Number(info.lastInsertRowid), changes: info.changes };
  };
  const fake = {
    transactions: 0,
    async getAllAsync<T>(source: string, params: SqliteValue[]) {
      return rowsOf(db, source, params) as T[];
    },
    runAsync,
    async withExclusiveTransactionAsync(
      task: (txn: { runAsync: typeof runAsync }) => Promise<void>,
    ) {
      fake.transactions++;
      await inTransaction(db, 'BEGIN IMMEDIATE', () => task({ runAsync }));
    },
    async withTransactionAsync(task: () => Promise<void>) {
      fake.transactions++;
      await inTransaction(db, 'BEGIN', task);
    },
    async closeAsync() {
      db.close();
    },
  };
  return fake;
}

/** op-sqlite's `DB` (v9+: `execute` → `{ rows, rowsAffected }`, `transaction(fn)` auto-committing, `close()`) on better-sqlite3. */
export function fakeOpSqliteDatabase(db: Db): OpSqliteDatabase & { transactions: number } {
  const execute = async (query: string, params: SqliteValue[] = []) => ({
    rows: rowsOf(db, query, params),
    rowsAffected: 0,
  });
  const fake = {
    transactions: 0,
    execute,
    async transaction(
      fn: (tx: {
        execute: typeof execute;
        commit(): Promise<unknown>;
        rollback(): unknown;
      }) => Promise<void>,
    ) {
      fake.transactions++;
      await inTransaction(db, 'BEGIN TRANSACTION', () =>
        fn({ execute, commit: async () => ({ rows: [] }), rollback: () => ({ rows: [] }) }),
      );
    },
    close() {
      db.close();
    },
  };
  return fake;
}
