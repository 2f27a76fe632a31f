/** `expoSqliteDriver(db)`: the SQLite driver contract on expo-sqlite's async API (`openDatabaseAsync`), for Expo and React Native. */
import type { SqliteDriver, SqliteValue } from './driver.js';

/** The part of an expo-sqlite transaction the driver uses. */
export interface ExpoSqliteTransaction {
  runAsync(source: string, params: SqliteValue[]): Promise<unknown>;
}

/**
 * The part of expo-sqlite's `SQLiteDatabase` (from `openDatabaseAsync`, expo-sqlite 14+) the driver
 * uses, typed structurally so the client has no dependency on expo-sqlite.
 */
export interface ExpoSqliteDatabase extends ExpoSqliteTransaction {
  getAllAsync<T>(source: string, params: SqliteValue[]): Promise<T[]>;
  withExclusiveTransactionAsync(task: (txn: ExpoSqliteTransaction) => Promise<void>): Promise<void>;
  withTransactionAsync(task: () => Promise<void>): Promise<void>;
  closeAsync(): Promise<void>;
}

/** Options of `expoSqliteDriver`. */
export interface ExpoSqliteDriverOptions {
  /**
   * Run each `write()` in `withExclusiveTransactionAsync` (its own connection: no other query of the
   * app can slip into the transaction). Turn off on web, where expo-sqlite does not support it;
   * `withTransactionAsync` is used then. @default true
   */
  exclusive?: boolean;
}

/**
 * Wraps an expo-sqlite database as a `SqliteDriver`.
 *
 * @example
 * import * as SQLite from 'expo-sqlite';
 * const store = sqliteLocalStore(expoSqliteDriver(await SQLite.openDatabaseAsync('sync.db')));
 */
export function expoSqliteDriver(
  db: ExpoSqliteDatabase,
  options: ExpoSqliteDriverOptions = {},
): SqliteDriver {
  return {
    async execute(sql, params = []) {
      return { rows: await db.getAllAsync<Record<string, unknown>>(sql, [...params]) };
    },
    async transaction(statements) {
      const body = async (txn: ExpoSqliteTransaction) => {
        for (const s of statements) await txn.runAsync(s.sql, [...s.params]);
      };
      if (options.exclusive === false) await db.withTransactionAsync(() => body(db));
      else await db.withExclusiveTransactionAsync(body);
    },
    close: () => db.closeAsync(),
  };
}
