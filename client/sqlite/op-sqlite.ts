/** `opSqliteDriver(db)`: the SQLite driver contract on op-sqlite (v9+, React Native, JSI). */
import type { SqliteDriver, SqliteValue } from './driver.js';

/** The part of an op-sqlite transaction the driver uses. */
export interface OpSqliteTransaction {
  execute(query: string, params?: SqliteValue[]): Promise<unknown>;
}

/**
 * The part of op-sqlite's `DB` (from `open({ name })`, v9+: `execute` answers `{ rows }` as plain
 * objects) the driver uses, typed structurally so the client has no dependency on op-sqlite.
 */
export interface OpSqliteDatabase {
  execute(query: string, params?: SqliteValue[]): Promise<{ rows: Record<string, unknown>[] }>;
  transaction(fn: (tx: OpSqliteTransaction) => Promise<void>): Promise<void>;
  close(): void;
}

/**
 * Wraps an op-sqlite database as a `SqliteDriver`; each `write()` is one `db.transaction` (committed
 * when the callback resolves, rolled back when it throws).
 *
 * @example
 * import { open } from '@op-engineering/op-sqlite';
 * const store = sqliteLocalStore(opSqliteDriver(open({ name: 'sync.db' })));
 */
export function opSqliteDriver(db: OpSqliteDatabase): SqliteDriver {
  return {
    async execute(sql, params = []) {
      const result = await db.execute(sql, [...params]);
      return { rows: result.rows ?? [] };
    },
    async transaction(statements) {
      await db.transaction(async (tx) => {
        for (const s of statements) await tx.execute(s.sql, [...s.params]);
      });
    },
    async close() {
      db.close();
    },
  };
}
