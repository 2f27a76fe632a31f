/** Query semantics every local store shares: equality on top-level fields, ordering, paging; and the JS evaluation stores without indexes use. */
import { compareStrings } from '../shared/order.js';
import type { DocData, DocQuery, LocalDoc, QueryValue } from './local-store.js';

/** True when `data` has every `where` field equal to its value (`null` also matches a missing field). */
export function matchesWhere(data: DocData, where: DocQuery['where']): boolean {
  if (!where) return true;
  for (const field in where) {
    const want = where[field];
    const have = Object.prototype.hasOwnProperty.call(data, field) ? data[field] : undefined;
    if (want === null ? have !== null && have !== undefined : have !== want) return false;
  }
  return true;
}

/** Rank of a value's type in the order: missing/null first, then booleans, numbers, strings, anything else. */
function rank(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  return 4;
}

/** Compares two field values by the query order (type rank, then value; strings in code point order, as `compareIds`). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0 || ra === 4) return 0;
  if (ra === 3) return compareStrings(a as string, b as string);
  return (a as number | boolean) < (b as number | boolean)
    ? -1
    : (a as number | boolean) > (b as number | boolean)
      ? 1
      : 0;
}

/**
 * Compares ids the way every store orders them, client and server: Unicode code point order, which
 * is UTF-8 byte order (SQLite, PostgreSQL `COLLATE "C"`, MongoDB), not JavaScript's UTF-16 `<`.
 */
export function compareIds(a: string, b: string): number {
  return compareStrings(a, b);
}

/** The comparator of a query's order (`orderBy`, then id). */
export function docOrder(orderBy: DocQuery['orderBy']): (a: LocalDoc, b: LocalDoc) => number {
  if (!orderBy) return (a, b) => compareIds(a.id, b.id);
  const sign = orderBy.direction === 'desc' ? -1 : 1;
  const field = orderBy.field;
  return (a, b) => sign * compareValues(a.data?.[field], b.data?.[field]) || compareIds(a.id, b.id);
}

/** Answers a query over documents given in any order (live ones are kept, then sorted and sliced). */
export function runQuery(docs: Iterable<LocalDoc>, query: DocQuery): LocalDoc[] {
  const hits: LocalDoc[] = [];
  for (const doc of docs)
    if (doc.data !== null && matchesWhere(doc.data, query.where)) hits.push(doc);
  hits.sort(docOrder(query.orderBy));
  const offset = query.offset ?? 0;
  return hits.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
}

/** Checks a query's shape once, with a message naming the bad part. */
export function checkQuery(query: DocQuery): void {
  for (const [field, value] of Object.entries(query.where ?? {})) {
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value))
      throw new Error(`query: where.${field} must be a string, number, boolean or null`);
  }
  if (query.orderBy && (typeof query.orderBy.field !== 'string' || query.orderBy.field === ''))
    throw new Error('query: orderBy.field must be a field name');
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 0))
    throw new Error('query: limit must be a non-negative integer');
  if (query.offset !== undefined && (!Number.isInteger(query.offset) || query.offset < 0))
    throw new Error('query: offset must be a non-negative integer');
}

/** True when every `where` value is a scalar the stores can match by index or SQL. */
export function isScalarWhere(filter: unknown): filter is Record<string, QueryValue> {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) return false;
  return Object.values(filter).every(
    (v) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean',
  );
}
