/** The SQLite local store's tables, indexes and schema version (kept in `PRAGMA user_version`). */

/** The schema version this code writes; a database with a higher `user_version` is refused. */
export const SCHEMA_VERSION = 2;

/** Statements that bring a database of schema version `from` up to `SCHEMA_VERSION` (after `schemaStatements`). */
export function migrationStatements(t: SqliteTables, from: number): string[] {
  // Version 2: `views`, the subscriptions that delivered each document.
  return from === 1 ? [`ALTER TABLE ${t.docs} ADD COLUMN views TEXT`] : [];
}

/** Table names for one prefix. */
export interface SqliteTables {
  docs: string;
  outbox: string;
  meta: string;
}

/** The names of the store's tables under `prefix` (checked to be a plain identifier). */
export function tableNames(prefix: string): SqliteTables {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix))
    throw new Error(
      `sqliteLocalStore: tablePrefix must be letters, digits and _ (not starting with a digit), got ${JSON.stringify(prefix)}`,
    );
  return { docs: `${prefix}docs`, outbox: `${prefix}outbox`, meta: `${prefix}meta` };
}

/**
 * The statements that create every table, index and trigger (idempotent). Documents are keyed by
 * (collection, id) without a rowid; `live` is 1 unless the document is a tombstone, so counts read
 * only an index. The outbox trigger refuses a mutation id not above every id in the outbox, which
 * aborts the statement and so the whole `write()` transaction.
 */
export function schemaStatements(t: SqliteTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.docs} (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT, version TEXT, server TEXT, pending INTEGER, mark TEXT, views TEXT, live INTEGER NOT NULL, PRIMARY KEY (collection, id)) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS ${t.docs}_live ON ${t.docs} (collection, live)`,
    `CREATE TABLE IF NOT EXISTS ${t.outbox} (mutation_id INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, entry TEXT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS ${t.outbox}_doc ON ${t.outbox} (collection, id, mutation_id)`,
    `CREATE TRIGGER IF NOT EXISTS ${t.outbox}_order BEFORE INSERT ON ${t.outbox} WHEN NEW.mutation_id <= (SELECT coalesce(max(mutation_id), 0) FROM ${t.outbox}) BEGIN SELECT RAISE(ABORT, 'outbox: mutation id is not above the last one in the outbox'); END`,
    `CREATE TABLE IF NOT EXISTS ${t.meta} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID`,
  ];
}
