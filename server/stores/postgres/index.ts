// Public entry of the SQL store: `postgresStore()` for a pg Pool or PGlite, `pgliteStore()` for the embedded default.
import type { PGliteDb, PgPool } from './driver-types.js';
import { importPeer } from '../../peers.js';
import { pgliteExecutor, poolExecutor } from './executor.js';
import { resolveOptions, type PostgresStoreOptions } from './options.js';
import { SqlStore, type ListenClientFactory } from './store.js';

export type { PostgresStoreOptions } from './options.js';
export type { PGliteDb, PgClient, PgPool } from './driver-types.js';
export { SCHEMA_VERSION } from './schema-sql.js';
export type { SqlStore } from './store.js';

/** The SQL store with its client exposed as `raw` (for the app's own queries). */
export type PostgresStore<Raw extends PgPool | PGliteDb = PgPool | PGliteDb> = SqlStore<Raw>;

function isPGlite(client: unknown): client is PGliteDb {
  // Duck-typed rather than instanceof: two copies of a driver in one app break instanceof.
  return (
    typeof client === 'object' &&
    client !== null &&
    'waitReady' in client &&
    'dumpDataDir' in client
  );
}

function isPool(client: unknown): client is PgPool {
  return (
    typeof client === 'object' &&
    client !== null &&
    'totalCount' in client &&
    typeof (client as PgPool).connect === 'function'
  );
}

/**
 * A sync store on PostgreSQL (a `pg.Pool`) or PGlite. Call `init()` before use; it creates the
 * `sync_*` tables if missing. The pool is left open by `close()` unless `closeClient` is set.
 *
 * @example
 * import pg from 'pg';
 * const store = postgresStore(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * await store.init();
 * const engine = createSyncEngine({ store, schema });
 */
export function postgresStore<Raw extends PgPool | PGliteDb>(
  client: Raw,
  options?: PostgresStoreOptions,
): PostgresStore<Raw> {
  const resolved = resolveOptions(options);
  if (isPGlite(client)) return new SqlStore(client, pgliteExecutor(client), resolved, null);
  if (!isPool(client))
    throw new TypeError('postgresStore: expected a pg.Pool or a PGlite instance');
  const pool = client;
  // An idle pooled connection killed by the server emits 'error' on the pool; unhandled, that
  // would end the process. The store reconnects on its next query, so only keep it from crashing.
  if (pool.listenerCount('error') === 0) pool.on('error', () => undefined);
  const listenClient: ListenClientFactory =
    resolved.listenClient ??
    (async () => {
      const { default: pgModule } = await importPeer('pg', () => import('pg'));
      return new pgModule.Client({
        ...(pool as unknown as { options: object }).options,
        application_name: 'trpc-offline-sync listen',
      });
    });
  return new SqlStore(
    client,
    poolExecutor(pool, resolved.preparedStatements),
    resolved,
    listenClient,
  );
}

/**
 * PostgreSQL settings the embedded store starts with: PGlite's default `shared_buffers = 128MB`
 * costs about 800 MB RSS on a fresh data directory; 16 MB gives about 350 MB (measured on Node 20,
 * PGlite 0.5). Pass `postgresqlconf` to `pgliteStore` to change them.
 */
export const PGLITE_CONF: string[] = ['shared_buffers = 16MB'];

/**
 * The embedded store: PGlite (PostgreSQL in WebAssembly) in `dataDir`, or in memory when
 * `dataDir` is undefined. Nothing to install; `close()` closes the database.
 *
 * @example
 * const store = await pgliteStore('./data/sync');
 * await store.init();
 */
export async function pgliteStore(
  dataDir?: string,
  options?: PostgresStoreOptions & { postgresqlconf?: string[] },
): Promise<PostgresStore<PGliteDb>> {
  const { PGlite } = await importPeer('@electric-sql/pglite', () => import('@electric-sql/pglite'));
  const { postgresqlconf = PGLITE_CONF, ...storeOptions } = options ?? {};
  resolveOptions(storeOptions); // a bad option throws before a database is opened (and left open)
  const db: PGliteDb = new PGlite(dataDir, { postgresqlconf });
  await db.waitReady;
  return postgresStore(db, { closeClient: true, ...storeOptions });
}
