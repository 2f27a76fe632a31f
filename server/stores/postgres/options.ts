// Options of the SQL store (PostgreSQL through `pg`, or PGlite): one type, defaults merged and validated once.
import type { PgClient } from './driver-types.js';
import { z } from 'zod';

/** Options of `postgresStore()` and `pgliteStore()`. */
export interface PostgresStoreOptions {
  /**
   * PostgreSQL schema that holds the tables (created by `init()` when missing). Unset: the
   * connection's `search_path` decides, usually `public`.
   * @default undefined
   */
  schema?: string;
  /**
   * Prefix of every table, index and view name (`sync_docs`, `sync_oplog`, ...). Change it to run
   * two independent sync stores in one schema.
   * @default 'sync_'
   */
  tablePrefix?: string;
  /**
   * How many times a transaction is run again after a serialization failure (40001), a deadlock
   * (40P01) or a lost connection, with exponential backoff and jitter. The engine's transaction
   * function is re-runnable, so a retry never applies a change twice.
   * @default 5
   */
  maxRetries?: number;
  /**
   * LISTEN/NOTIFY channel on which commits are announced to every server process (PostgreSQL only;
   * PGlite has one process and tells its listeners directly).
   * @default 'sync_commits'
   */
  notifyChannel?: string;
  /**
   * Whether `close()` also ends the pool / closes PGlite. `postgresStore()` leaves the client to
   * its owner; `pgliteStore()` made its PGlite itself and closes it.
   * @default false (postgresStore), true (pgliteStore)
   */
  closeClient?: boolean;
  /**
   * Collections to expose as read-only views of live documents (`<prefix>live_<collection>`), so
   * apps can query them with plain SQL (quoted names, at most 48 characters).
   * @default []
   */
  collections?: string[];
  /**
   * Whether pg statements are prepared (named) once per connection. Turn off behind a pooler in
   * transaction mode that does not track prepared statements (PgBouncer before 1.21).
   * @default true
   */
  preparedStatements?: boolean;
  /**
   * Makes the dedicated connection used for LISTEN (PostgreSQL only). Default: a `pg.Client` with
   * the pool's own options. Give one when the pool goes through a transaction-mode pooler
   * (PgBouncer), where LISTEN does not work, so LISTEN connects to the server directly.
   * @default undefined
   */
  listenClient?: () => PgClient;
  /**
   * `oplogStats()` (the `sync_oplog_entries` gauge, `/sync/status`) counts oplog rows exactly while
   * the planner's statistics put the table below this many rows, and above it scales the
   * statistics' rows-per-page to the table's current size (`estimated: true`), so a scrape never
   * scans a large table. `0` always estimates once statistics exist.
   * @default 100_000
   */
  exactCountLimit?: number;
}

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

const optionsSchema = z.object({
  schema: z.string().regex(identifier, 'must be an SQL identifier').max(63).optional(),
  tablePrefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$|^$/, 'must be an SQL identifier prefix')
    .max(40)
    .default('sync_'),
  maxRetries: z.number().int().min(0).max(100).default(5),
  notifyChannel: z
    .string()
    .regex(identifier, 'must be an SQL identifier')
    .max(63)
    .default('sync_commits'),
  closeClient: z.boolean().default(false),
  preparedStatements: z.boolean().default(true),
  // View names are quoted, so any name fits that leaves room for the prefix in 63 bytes.
  collections: z.array(z.string().min(1).max(48)).default([]),
  exactCountLimit: z.number().int().min(0).default(100_000),
  listenClient: z
    .custom<() => PgClient>((v) => v === undefined || typeof v === 'function', 'must be a function')
    .optional(),
});

/** Options after defaults were merged. */
export type ResolvedOptions = Required<Omit<PostgresStoreOptions, 'schema' | 'listenClient'>> &
  Pick<PostgresStoreOptions, 'schema' | 'listenClient'>;

/** Merges defaults and validates; a bad option throws naming the option. */
export function resolveOptions(options: PostgresStoreOptions = {}): ResolvedOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(
      `postgresStore: option ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data as ResolvedOptions;
}
