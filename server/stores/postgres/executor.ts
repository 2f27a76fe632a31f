// A tiny query executor with two implementations, so one store speaks to PGlite and to a pg Pool alike.
import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { PGliteDb, PgPool } from './driver-types.js';

/** A result row as the driver gives it (bigint columns may come back as strings). */
export type Row = Record<string, unknown>;

/** Runs one statement with positional parameters (`$1`, `$2`, ...). */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** A transaction's first statement: parameters are strings, `$1`, `$2`, ... in the text. */
export interface Opening {
  sql: string;
  params: string[];
}

/** A database the store talks to: plain queries, transactions on one connection, shutdown. */
export interface Executor extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * BEGIN, `fn` on one connection, COMMIT; ROLLBACK and rethrow when `fn` or COMMIT fails.
   * `opening`, when given, is the transaction's first statement; its rows are handed to `fn`
   * (PostgreSQL sends it together with BEGIN, saving a round trip).
   */
  transaction<T>(fn: (q: Queryable, opening: Row[]) => Promise<T>, opening?: Opening): Promise<T>;
  close(): Promise<void>;
}

/** PGlite: one embedded session; its own mutex already runs one transaction at a time. */
export function pgliteExecutor(given: PGliteDb): Executor {
  const db = given as unknown as PGlite;
  return {
    kind: 'pglite',
    async query<R extends Row>(sql: string, params?: unknown[]) {
      // Never from inside a transaction: it would wait for that transaction's end, forever (the
      // store routes such reads to the transaction itself).
      return (await db.query<R>(sql, params)).rows;
    },
    transaction(fn, opening) {
      // PGlite's transaction() issues BEGIN/COMMIT and ROLLBACK on a throw, under its mutex, so
      // plain db.query() calls from elsewhere wait for the commit instead of slipping inside.
      return db.transaction(async (tx) => {
        const q: Queryable = {
          query: async <R extends Row>(sql: string, params?: unknown[]) =>
            (await tx.query<R>(sql, params)).rows,
        };
        return fn(q, opening ? await q.query(opening.sql, opening.params) : []);
      });
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}

/** A pg query config; named (prepared once per connection, then planned once) when `prepare` is set. */
function statement(sql: string, params: unknown[] | undefined, prepare: boolean): pg.QueryConfig {
  if (!prepare) return { text: sql, values: params };
  // The name is a digest of the text, so one name never stands for two different statements.
  return {
    name: `sync_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`,
    text: sql,
    values: params,
  };
}

/** A checked-out client, the first connection error seen on it, and the listener that records it. */
interface Checkout {
  client: pg.PoolClient;
  state: { broken?: Error };
  onError: (error: Error) => void;
}

/**
 * `pool.connect()` with an error listener attached in the very callback that hands the client
 * over. The pool drops its own listener when it hands a client out, and a new connection's last
 * startup message (ReadyForQuery) can arrive in the same socket read as the server's FATAL
 * 57P01 of a shutdown: with the promise form, that error is emitted before any `await` resumes
 * and, unheard, ends the process. Here it marks the client broken: the next query fails, the
 * transaction is retried on another connection and this one is destroyed on release.
 */
function checkout(pool: pg.Pool): Promise<Checkout> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || !client) {
        reject(error ?? new Error('Connection terminated: the pool gave no client'));
        return;
      }
      const state: { broken?: Error } = {};
      const onError = (e: Error) => {
        state.broken ??= e;
      };
      client.on('error', onError);
      resolve({ client, state, onError });
    });
  });
}

/**
 * pg Pool: each transaction checks out one client; a client whose connection broke is destroyed.
 * With `prepare`, statements are named so each connection parses and plans them once (several
 * times faster for the bulk unnest statements).
 */
export function poolExecutor(given: PgPool, prepare: boolean): Executor {
  const pool = given as unknown as pg.Pool;
  return {
    kind: 'postgres',
    async query<R extends Row>(sql: string, params?: unknown[]) {
      return (await pool.query<R>(statement(sql, params, prepare))).rows;
    },
    async transaction(fn, opening) {
      const { client, state, onError } = await checkout(pool);
      try {
        let first: Row[] = [];
        if (opening) {
          // One simple-protocol message, `BEGIN; <opening>`: one round trip instead of two. The
          // simple protocol takes no parameters, so they are inlined as escaped literals (pg's
          // escapeLiteral: quotes doubled, E'' form when there are backslashes).
          const text = opening.sql.replace(/\$(\d+)/g, (_, n: string) =>
            client.escapeLiteral(opening.params[Number(n) - 1]!),
          );
          const results = (await client.query(`BEGIN; ${text}`)) as unknown as pg.QueryResult[];
          first = results[results.length - 1]!.rows;
        } else {
          await client.query('BEGIN');
        }
        const q: Queryable = {
          query: async <R extends Row>(sql: string, params?: unknown[]) =>
            (await client.query<R>(statement(sql, params, prepare))).rows,
        };
        const result = await fn(q, first);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable (terminated, reset): do not give it back to the pool.
          state.broken =
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.removeListener('error', onError);
        client.release(state.broken);
      }
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
