// Integrity checksums of the MongoDB store: kept on the scope document (`checksums.<collection>`), written in the push's session.
import type { ClientSession, Collection, FindOptions } from 'mongodb';
import { addSum, checksumHex } from '../../../shared/checksum.js';
import type { CollectionChecksum } from '../store.js';
import type { ScopeDoc } from './collections.js';

type Kept = Record<string, { sum: string; seq: number }>;

/**
 * `StoreTx.addChecksums`: reads the scope's kept sums and writes the new ones, in the transaction's
 * session (under the scope's lock, so no other writer of the scope runs in between; on a standalone
 * server, under the scope lease, and not atomic with the documents).
 */
export async function addChecksums(
  scopes: Collection<ScopeDoc>,
  scope: string,
  deltas: ReadonlyMap<string, bigint>,
  seq: number,
  session?: ClientSession,
): Promise<void> {
  if (deltas.size === 0) return;
  const doc = (await scopes.findOne({ _id: scope }, { session, projection: { checksums: 1 } })) as {
    checksums?: Kept;
  } | null;
  const set: Record<string, { sum: string; seq: number }> = {};
  for (const [collection, delta] of deltas) {
    const kept = doc?.checksums?.[collection]?.sum;
    set[`checksums.${collection}`] = {
      sum: checksumHex(addSum(kept ? BigInt(`0x${kept}`) : 0n, delta)),
      seq,
    };
  }
  await scopes.updateOne({ _id: scope }, { $set: set }, { session, upsert: true });
}

/** The kept sums on a scope document (all collections, or these; collections never written are left out). */
export function keptChecksums(
  doc: { checksums?: unknown } | null | undefined,
  collections?: readonly string[],
): CollectionChecksum[] {
  const kept = (doc?.checksums ?? {}) as Kept;
  return (collections ?? Object.keys(kept)).flatMap((collection) => {
    const row = kept[collection];
    return row ? [{ collection, sum: BigInt(`0x${row.sum}`), seq: row.seq }] : [];
  });
}

/** `Store.checksums`: the scope's kept sums (all collections, or these), read with the store's read options. */
export async function readChecksums(
  scopes: Collection<ScopeDoc>,
  scope: string,
  collections?: readonly string[],
  read: FindOptions = {},
): Promise<CollectionChecksum[]> {
  const doc = (await scopes.findOne({ _id: scope }, { ...read, projection: { checksums: 1 } })) as {
    checksums?: Kept;
  } | null;
  return keptChecksums(doc, collections);
}
