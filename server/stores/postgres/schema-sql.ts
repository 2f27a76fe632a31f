// DDL of the SQL store's tables, indexes and views, and the schema version recorded in `<prefix>meta`.

/** Version of the table layout below; `init()` records it and refuses a newer database. */
export const SCHEMA_VERSION = 5;

/** Quoted, schema-qualified names of the store's tables. */
export interface Tables {
  meta: string;
  scopes: string;
  docs: string;
  oplog: string;
  clients: string;
  /** One row per recorded push: the outcomes of its mutations (since schema version 2). */
  mutationBatches: string;
  /** Version 1's one row per mutation; only read by the migration in `init()`. */
  legacyMutations: string;
}

/** Where the tables live: an optional schema and a name prefix (both validated identifiers). */
export interface Naming {
  schema?: string;
  prefix: string;
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A quoted, schema-qualified name of a table or view. */
export function qualified(naming: Naming, name: string): string {
  return naming.schema
    ? `${quote(naming.schema)}.${quote(naming.prefix + name)}`
    : quote(naming.prefix + name);
}

/**
 * An index per field that read rules filter on (`Store.ensureIndexes`): the JSON value of
 * `data->'field'` after scope and collection, so a view's full export reads the index.
 * One index per field name serves every collection that uses it. `$writer` (the last writer)
 * indexes the `actor` column instead.
 */
export function ruleIndexStatement(naming: Naming, field: string): string {
  if (field === '$writer') {
    // The last writer (`WRITER_FIELD`): the actor column.
    const writer = quote(`${naming.prefix}docs_rule_writer`.slice(0, 63));
    return `CREATE INDEX IF NOT EXISTS ${writer} ON ${qualified(naming, 'docs')} (scope, collection, actor, id)`;
  }
  if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(field))
    throw new Error(`sql store: "${field}" is not a plain field name`);
  const name = quote(`${naming.prefix}docs_rule_${field}`.slice(0, 63));
  return `CREATE INDEX IF NOT EXISTS ${name} ON ${qualified(naming, 'docs')} (scope, collection, (data->'${field}'), id)`;
}

/** The table names for one naming. */
export function tables(naming: Naming): Tables {
  return {
    meta: qualified(naming, 'meta'),
    scopes: qualified(naming, 'scopes'),
    docs: qualified(naming, 'docs'),
    oplog: qualified(naming, 'oplog'),
    clients: qualified(naming, 'clients'),
    mutationBatches: qualified(naming, 'mutation_batches'),
    legacyMutations: qualified(naming, 'mutations'),
  };
}

/**
 * Statements that create everything missing; each is idempotent. Key columns use the "C"
 * collation so (collection, id) order is byte order, the same on every server and in every store.
 */
export function createStatements(naming: Naming, collections: readonly string[]): string[] {
  const t = tables(naming);
  const index = (name: string) => quote(naming.prefix + name);
  const key = 'text COLLATE "C" NOT NULL';
  const statements = [
    ...(naming.schema ? [`CREATE SCHEMA IF NOT EXISTS ${quote(naming.schema)}`] : []),
    `CREATE TABLE IF NOT EXISTS ${t.meta} (key text PRIMARY KEY, value text NOT NULL)`,
    // `checksums`: the scope's integrity checksums, { "<collection>": { "sum": "<16 hex>", "seq": n } }
    // (shared/checksum.ts), moved by each push in the statement that moves `seq` (since version 4).
    `CREATE TABLE IF NOT EXISTS ${t.scopes} (
      scope ${key} PRIMARY KEY,
      seq bigint NOT NULL DEFAULT 0,
      horizon bigint NOT NULL DEFAULT 0,
      writes bigint NOT NULL DEFAULT 0,
      checksums jsonb NOT NULL DEFAULT '{}')`,
    `CREATE TABLE IF NOT EXISTS ${t.docs} (
      scope ${key},
      collection ${key},
      id ${key},
      data jsonb,
      fields jsonb NOT NULL DEFAULT '{}',
      version text NOT NULL,
      seq bigint NOT NULL,
      deleted boolean NOT NULL DEFAULT false,
      actor text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (scope, collection, id))`,
    `CREATE INDEX IF NOT EXISTS ${index('docs_scope_seq')} ON ${t.docs} (scope, seq)`,
    `CREATE TABLE IF NOT EXISTS ${t.oplog} (
      scope ${key},
      seq bigint NOT NULL,
      idx integer NOT NULL,
      collection ${key},
      id ${key},
      op text NOT NULL CHECK (op IN ('upsert', 'delete')),
      data jsonb,
      before jsonb,
      version text NOT NULL,
      actor text NOT NULL,
      client_id text,
      mutation_id bigint,
      at timestamptz NOT NULL,
      PRIMARY KEY (scope, seq, idx))`,
    `CREATE INDEX IF NOT EXISTS ${index('oplog_at')} ON ${t.oplog} (at)`,
    `CREATE INDEX IF NOT EXISTS ${index('oplog_version')} ON ${t.oplog} (scope, collection, id, version)`,
    `CREATE TABLE IF NOT EXISTS ${t.clients} (
      scope ${key},
      client_id ${key},
      last_mutation_id bigint NOT NULL,
      owner text,
      PRIMARY KEY (scope, client_id))`,
    // One row per recordResults call (one per push): the outcomes keyed by mutation id, in
    // `results` ({"<mutationId>": RecordedOutcome}). first_mid/last_mid bound the ids it holds.
    `CREATE TABLE IF NOT EXISTS ${t.mutationBatches} (
      scope ${key},
      client_id ${key},
      first_mid bigint NOT NULL,
      last_mid bigint NOT NULL,
      results jsonb NOT NULL,
      at timestamptz NOT NULL,
      PRIMARY KEY (scope, client_id, last_mid))`,
    `CREATE INDEX IF NOT EXISTS ${index('mutation_batches_at')} ON ${t.mutationBatches} (at)`,
  ];
  for (const collection of collections) {
    // Live documents of one collection, for apps that read with their own SQL.
    statements.push(`CREATE OR REPLACE VIEW ${qualified(naming, `live_${collection}`)} AS
      SELECT scope, id, data, version, seq, actor, updated_at FROM ${t.docs}
      WHERE collection = '${collection.replace(/'/g, "''")}' AND NOT deleted`);
  }
  return statements;
}
