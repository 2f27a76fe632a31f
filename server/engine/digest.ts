/** Digests of pushed changes, kept in the mutation ledger so `duplicate` is only answered for the same change. */
import { createHash } from 'node:crypto';
import type { ChangeInput } from '../../shared/protocol.js';

/** JSON text with object keys sorted at every level, so two encodings of one value agree. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/**
 * The digest of a change as the client sent it: collection, id, op, data, base version and HLC
 * (128 bits of SHA-256, base64url). A retry re-sends the same outbox entry, so it has the same
 * digest; another device's different change under the same mutation id does not.
 *
 * @example
 * changeDigest({ mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'a' } }); // 'kq3…'
 */
export function changeDigest(
  change: Pick<ChangeInput, 'collection' | 'id' | 'op' | 'data' | 'baseVersion' | 'hlc'>,
): string {
  const text = canonicalJson([
    change.collection,
    change.id,
    change.op,
    change.data ?? null,
    change.baseVersion ?? null,
    change.hlc ?? null,
  ]);
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}
