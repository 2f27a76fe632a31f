/** The SQLite local store and its drivers (better-sqlite3, expo-sqlite, op-sqlite). */
export { sqliteLocalStore, type SqliteLocalStore, type SqliteLocalStoreOptions } from './store.js';
export type { SqliteDriver, SqliteStatement, SqliteResult, SqliteValue } from './driver.js';
export { betterSqlite3Driver, type BetterSqlite3Database } from './better-sqlite3.js';
export {
  expoSqliteDriver,
  type ExpoSqliteDatabase,
  type ExpoSqliteTransaction,
  type ExpoSqliteDriverOptions,
} from './expo.js';
export { opSqliteDriver, type OpSqliteDatabase, type OpSqliteTransaction } from './op-sqlite.js';
