// A tiny query executor with two implementations, so one store speaks to PGlite and to a pg Pool alike.
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

/** A result row as the driver gives it (bigint columns may come back as strings). */
export type Row = Record<string, unknown>;

/** Runs one statement with positional parameters (`$1`, `$2`, ...). */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** A database the store talks to: plain queries, transactions on one connection, shutdown. */
export interface Executor extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** BEGIN, `fn` on one connection, COMMIT; ROLLBACK and rethrow when `fn` or COMMIT fails. */
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PGlite: one embedded session; its own mutex already runs one transaction at a time. */
export function pgliteExecutor(db: PGlite): Executor {
  return {
    kind: 'pglite',
    async query<R extends Row>(sql: string, params?: unknown[]) {
      return (await db.query<R>(sql, params)).rows;
    },
    transaction(fn) {
      // PGlite's transaction() issues BEGIN/COMMIT and ROLLBACK on a throw, under its mutex, so
      // plain db.query() calls from elsewhere wait for the commit instead of slipping inside.
      return db.transaction((tx) =>
        fn({ query: async <R extends Row>(sql: string, params?: unknown[]) => (await tx.query<R>(sql, params)).rows }),
      );
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}

/** pg Pool: each transaction checks out one client; a client whose connection broke is destroyed. */
export function poolExecutor(pool: pg.Pool): Executor {
  return {
    kind: 'postgres',
    async query<R extends Row>(sql: string, params?: unknown[]) {
      return (await pool.query<R>(sql, params)).rows;
    },
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const q: Queryable = {
          query: async <R extends Row>(sql: string, params?: unknown[]) => (await client.query<R>(sql, params)).rows,
        };
        const result = await fn(q);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable (terminated, reset): do not give it back to the pool.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
