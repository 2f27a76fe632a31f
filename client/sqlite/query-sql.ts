/** `DocQuery` → SQL over the JSON `data` column, with the type-aware equality and order of client/query.ts; every value bound. */
import type { DocQuery } from '../local-store.js';
import type { SqliteStatement, SqliteValue } from './driver.js';

/** The JSON path of a top-level field, or `null` when the name cannot be quoted in a SQLite JSON path (it holds `"` or a control character). */
export function fieldPath(field: string): string | null {
  return /["\u0000-\u001f\\]/.test(field) ? null : `$."${field}"`;
}

/** True when SQL can answer every field the query names. */
export function sqlCanAnswer(query: DocQuery): boolean {
  return (
    Object.keys(query.where ?? {}).every((f) => fieldPath(f) !== null) &&
    (!query.orderBy || fieldPath(query.orderBy.field) !== null)
  );
}

/** `json_type` → the rank of client/query.ts (missing/null 0, booleans 1, numbers 2, strings 3, anything else 4). */
const RANK = `CASE json_type(data, ?) WHEN 'true' THEN 1 WHEN 'false' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2 WHEN 'text' THEN 3 WHEN 'null' THEN 0 WHEN 'array' THEN 4 WHEN 'object' THEN 4 ELSE 0 END`;

/** The statement answering `query` on `collection` (live documents only). Call only when `sqlCanAnswer(query)`. */
export function querySql(docsTable: string, collection: string, query: DocQuery): SqliteStatement {
  const params: SqliteValue[] = [collection];
  const where = ['collection = ?', 'live = 1'];
  for (const [field, value] of Object.entries(query.where ?? {})) {
    const path = fieldPath(field)!;
    if (value === null) {
      where.push(`coalesce(json_type(data, ?), 'null') = 'null'`);
      params.push(path);
    } else if (typeof value === 'boolean') {
      where.push('json_type(data, ?) = ?');
      params.push(path, value ? 'true' : 'false');
    } else if (typeof value === 'number') {
      where.push(`json_type(data, ?) IN ('integer', 'real') AND json_extract(data, ?) = ?`);
      params.push(path, path, value);
    } else {
      where.push(`json_type(data, ?) = 'text' AND json_extract(data, ?) = ?`);
      params.push(path, path, value);
    }
  }
  let order = 'id';
  if (query.orderBy) {
    const path = fieldPath(query.orderBy.field)!;
    const dir = query.orderBy.direction === 'desc' ? 'DESC' : 'ASC';
    // Arrays and objects (rank 4) tie among themselves, as in client/query.ts, so their value is not compared.
    order = `${RANK} ${dir}, CASE WHEN json_type(data, ?) IN ('true', 'false', 'integer', 'real', 'text') THEN json_extract(data, ?) END ${dir}, id ASC`;
    params.push(path, path, path);
  }
  const sql = `SELECT * FROM ${docsTable} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ? OFFSET ?`;
  params.push(query.limit ?? -1, query.offset ?? 0);
  return { sql, params };
}
