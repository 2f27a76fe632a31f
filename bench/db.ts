/** The databases under test: the sync store on PGlite or PostgreSQL, plus raw SQL on the same connection for baselines. */
import { createHash } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pgliteStore, postgresStore, type PostgresStore } from '../server/stores/postgres/index.js';

/** Raw SQL on the store's own database: what the baselines run. */
export interface RawSql {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** BEGIN, `fn`, COMMIT on one connection. */
  transaction(
    fn: (q: (sql: string, params?: unknown[]) => Promise<unknown>) => Promise<void>,
  ): Promise<void>;
}

/** A store under test and raw access to the same database. */
export interface BenchDb {
  kind: 'pglite' | 'postgres';
  store: PostgresStore;
  raw: RawSql;
  /** A name in the store's schema (`"bench_x"."sync_docs"` on PostgreSQL, `sync_docs` on PGlite). */
  table(name: string): string;
  close(): Promise<void>;
}

/** The benchmark's PostgreSQL URL, if one is configured. */
export function databaseUrl(): string | undefined {
  return process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

/** The embedded default: PGlite in memory. */
export async function openPglite(): Promise<BenchDb> {
  const store = await pgliteStore(undefined);
  await store.init();
  const db = store.raw as PGlite;
  return {
    kind: 'pglite',
    store,
    raw: {
      async query<R>(sql: string, params?: unknown[]) {
        return (await db.query<R>(sql, params)).rows;
      },
      async transaction(fn) {
        await db.transaction(async (tx) => fn((sql, params) => tx.query(sql, params)));
      },
    },
    table: (name) => name,
    close: () => store.close(),
  };
}

/** Named (prepared once per connection) like the store's own statements, so raw and store plan alike. */
function prepared(sql: string, params?: unknown[]): pg.QueryConfig {
  return {
    name: `bench_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`,
    text: sql,
    values: params,
  };
}

/** PostgreSQL through a pg Pool, in a fresh schema dropped again by `close()`. */
export async function openPostgres(
  url: string,
  schema = `bench_${process.pid}_${Date.now().toString(36)}`,
): Promise<BenchDb> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const store = postgresStore(pool, { schema });
  await store.init();
  return {
    kind: 'postgres',
    store,
    raw: {
      async query<R>(sql: string, params?: unknown[]) {
        return (await pool.query(prepared(sql, params))).rows as R[];
      },
      async transaction(fn) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await fn((sql, params) => client.query(prepared(sql, params)));
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
    },
    table: (name) => `"${schema}"."${name}"`,
    async close() {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}
