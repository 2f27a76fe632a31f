/**
 * The parts of `pg` and PGlite that the store's public signatures name, declared here so that the
 * published types need neither `@types/pg` nor PGlite's own types (whose Emscripten types need
 * `@types/emscripten`). A `pg.Pool`, a `pg.Client` and a `PGlite` are each one; `postgresStore`
 * keeps the exact type it was given as `store.raw`.
 */

/** A PostgreSQL connection pool: a `pg.Pool`. */
export interface PgPool {
  readonly totalCount: number;
  readonly ended: boolean;
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  listenerCount(event: string): number;
}

/** One PostgreSQL connection: a `pg.Client` (the store's LISTEN connection). */
export interface PgClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** An embedded PGlite database: a `PGlite` from `@electric-sql/pglite`. */
export interface PGliteDb {
  readonly waitReady: Promise<void>;
  readonly closed: boolean;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(
    fn: (tx: {
      query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
    }) => Promise<T>,
  ): Promise<T>;
  close(): Promise<void>;
  dumpDataDir(...args: any[]): Promise<unknown>;
}
