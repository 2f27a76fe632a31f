/** Opens the store the config names (PostgreSQL, MongoDB or embedded PGlite) and lists what it holds, for `init`. */
import { mkdirSync } from 'node:fs';
import type { Store } from '../stores/store.js';
import { importPeer } from '../peers.js';
import { CliError, type CliConfig } from './config.js';

/** An opened store, a description for logs, what to close after it, and a snapshot of its tables or collections. */
export interface OpenedStore {
  store: Store;
  description: string;
  /** Table/collection/index names as `kind name` lines (compared before and after `init`). */
  objects(): Promise<string[]>;
  /** Closes the store and the client the CLI made for it. */
  close(): Promise<void>;
}

type Queryable = { query(sql: string): Promise<{ rows: unknown[] }> };

const RELATIONS_SQL = `SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' WHEN 'v' THEN 'view' END AS kind,
  n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'i', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`;

async function sqlObjects(db: Queryable): Promise<string[]> {
  const { rows } = await db.query(RELATIONS_SQL);
  return (rows as { kind: string; name: string }[]).map((r) => `${r.kind} ${r.name}`).sort();
}

/** Where a database URL points, without its password. */
function where(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** Opens (but does not init) the configured store; `collections` become SQL views of live documents. */
export async function openStore(
  config: CliConfig,
  collections: readonly string[],
): Promise<OpenedStore> {
  if (config.databaseUrl) {
    const { default: pg } = await importPeer('pg', () => import('pg'));
    const { postgresStore } = await import('../stores/postgres/index.js');
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      connectionTimeoutMillis: 5000,
    });
    const store = postgresStore(pool, { collections: [...collections] });
    return {
      store,
      description: `PostgreSQL at ${where(config.databaseUrl)}`,
      objects: () => sqlObjects(pool),
      close: async () => {
        await store.close();
        await pool.end();
      },
    };
  }
  if (config.mongodbUri) {
    const { MongoClient } = await importPeer('mongodb', () => import('mongodb'));
    const { mongoStore } = await import('../stores/mongodb/index.js');
    // The driver's own parser: `new URL` refuses multi-host replica-set URIs.
    const { parseMongoUri } = await import('../stores/mongodb/uri.js');
    let uri: { dbName: string | null; where: string };
    let client: InstanceType<typeof MongoClient>;
    try {
      uri = parseMongoUri(config.mongodbUri);
      client = new MongoClient(config.mongodbUri, { serverSelectionTimeoutMS: 5000 });
    } catch (error) {
      throw new CliError(`--mongodb-uri: ${(error as Error).message.split('\n')[0]}`);
    }
    try {
      await client.connect();
    } catch (error) {
      throw new CliError(
        `cannot reach MongoDB at ${uri.where}: ${(error as Error).message.split('\n')[0]}`,
      );
    }
    const db = client.db(uri.dbName ?? 'trpc_offline_sync');
    let store: Store;
    try {
      store = mongoStore(db, {
        collections,
        ...(config.mongodbPrefix ? { collectionPrefix: config.mongodbPrefix } : {}),
      });
    } catch (error) {
      await client.close();
      throw new CliError(
        `SYNC_MONGODB_PREFIX: ${(error as Error).message.replace(/^mongoStore: option collectionPrefix: /, '')}`,
      );
    }
    const objects = async () => {
      const out: string[] = [];
      for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) {
        out.push(`collection ${c.name}`);
        for (const i of await db.collection(c.name).indexes())
          out.push(`index ${c.name}.${i.name}`);
      }
      return out.sort();
    };
    return {
      store,
      description: `MongoDB at ${uri.where} (database ${db.databaseName})`,
      objects,
      close: async () => {
        await store.close();
        await client.close();
      },
    };
  }
  const { pgliteStore } = await import('../stores/postgres/index.js');
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (error) {
    throw new CliError(`--data-dir: cannot create ${config.dataDir}: ${(error as Error).message}`);
  }
  const store = await pgliteStore(config.dataDir, { collections: [...collections] });
  return {
    store,
    description: `embedded PGlite in ${config.dataDir}`,
    objects: () => sqlObjects(store.raw),
    close: () => store.close(),
  };
}

/** Runs `store.init()`, turning a connection failure into a one-line CLI error. */
export async function initStore(opened: OpenedStore): Promise<void> {
  try {
    await opened.store.init();
  } catch (error) {
    const e = error as Error & { code?: string };
    const reason = [e.code, e.message?.split('\n')[0]].filter(Boolean).join(': ') || String(error);
    await opened.close().catch(() => undefined);
    throw new CliError(`cannot initialize ${opened.description}: ${reason}`);
  }
}
