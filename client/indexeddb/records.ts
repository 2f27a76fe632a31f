/** How documents are laid out in IndexedDB: a record per document with its key, live flag and the keys of declared indexes. */
import { codePointKey } from '../../shared/order.js';
import type { LocalDoc, QueryValue } from '../local-store.js';

/** A stored document: `k` its key `[collection, id]`, `o` its order key, `l` the live-count key, `x` the declared index keys. */
export interface DocRecord {
  k: [string, string];
  /**
   * `[collection, codePointKey(id)]`, indexed as `order`: IndexedDB compares keys by UTF-16 code
   * units, this key sorts them in code point (UTF-8 byte) order, the order of every other store.
   */
  o: [string, string];
  /** `[collection, 1]` for a live document, `[collection, 0]` for a tombstone (counted by index). */
  l: [string, number];
  doc: LocalDoc;
  /** Per declared field: `[collection, type tag, value]` (IndexedDB cannot index booleans or null). */
  [field: `x_${string}`]: [string, string, string | number];
}

/** The index key of a field value; `null` and missing share one key, as queries match them alike. */
export function indexKey(
  collection: string,
  value: unknown,
): [string, string, string | number] | null {
  if (value === undefined || value === null) return [collection, 'z', 0];
  if (typeof value === 'boolean') return [collection, 'b', value ? 1 : 0];
  if (typeof value === 'number') return Number.isFinite(value) ? [collection, 'n', value] : null;
  if (typeof value === 'string') return [collection, 's', value];
  return null;
}

/** The key a `where` value is looked up by. */
export function whereKey(
  collection: string,
  value: QueryValue,
): [string, string, string | number] | null {
  return indexKey(collection, value);
}

/** Builds the record of a document, with the keys of the fields declared for its collection. */
export function toRecord(doc: LocalDoc, fields: readonly string[]): DocRecord {
  const record: DocRecord = {
    k: [doc.collection, doc.id],
    o: [doc.collection, codePointKey(doc.id)],
    l: [doc.collection, doc.data === null ? 0 : 1],
    doc,
  };
  if (doc.data !== null) {
    for (const field of fields) {
      const key = indexKey(
        doc.collection,
        Object.prototype.hasOwnProperty.call(doc.data, field) ? doc.data[field] : undefined,
      );
      if (key) record[`x_${field}`] = key;
    }
  }
  return record;
}
