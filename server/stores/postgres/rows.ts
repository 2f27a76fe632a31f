// Conversions between database rows and the Store's records (bigint columns arrive as strings from pg).
import type { OplogEntry, StoredDoc } from '../store.js';
import type { Row } from './executor.js';

/** Columns selected for a document, in `docFromRow`'s terms. */
export const DOC_COLUMNS = 'collection, id, data, fields, version, seq, deleted, actor';

/** Columns selected for an oplog entry. */
export const OPLOG_COLUMNS =
  'seq, idx, collection, id, op, data, before, (before IS NULL) AS no_before, version, actor, client_id, mutation_id, at';

/** A bigint column as a JS number (pg gives strings, PGlite numbers); seqs stay far below 2^53. */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function docFromRow(scope: string, row: Row): StoredDoc {
  return {
    scope,
    collection: row.collection as string,
    id: row.id as string,
    data: (row.data ?? null) as Record<string, unknown> | null,
    fields: (row.fields ?? {}) as Record<string, string>,
    version: row.version as string,
    seq: num(row.seq),
    deleted: row.deleted as boolean,
    actor: row.actor as string,
  };
}

export function oplogFromRow(scope: string, row: Row): OplogEntry {
  return {
    scope,
    seq: num(row.seq),
    idx: num(row.idx),
    collection: row.collection as string,
    id: row.id as string,
    op: row.op as OplogEntry['op'],
    data: (row.data ?? null) as Record<string, unknown> | null,
    // SQL NULL: no pre-image kept; JSON null: the document did not exist before the entry.
    ...(row.no_before === true
      ? {}
      : { before: (row.before ?? null) as Record<string, unknown> | null }),
    version: row.version as string,
    actor: row.actor as string,
    clientId: (row.client_id ?? null) as string | null,
    mutationId:
      row.mutation_id === null || row.mutation_id === undefined ? null : num(row.mutation_id),
    at: row.at instanceof Date ? row.at : new Date(row.at as string),
  };
}
