/**
 * Integrity checksums on the server: the per-commit deltas a push adds to the kept sums, the sums
 * sent with a checkpoint (only where they are exact at it), and `verifyChecksums` — the on-demand
 * recomputation from the stored documents that finds drift behind the engine's back.
 */
import { addSum, checksumHex, docHash, EMPTY_CHECKSUM, subSum } from '../../shared/checksum.js';
import type { ScopeHead, Store, StoredDoc } from '../stores/store.js';

/** A stored document's contribution to its collection's checksum (0 for a tombstone). */
export function storedHash(doc: StoredDoc): bigint {
  return doc.deleted || doc.data === null ? 0n : docHash(doc.id, doc.version, doc.data);
}

/**
 * Per collection, what one commit adds to the checksum: the new states' hashes minus the old
 * ones. `before` holds the documents as read at the start of the commit (absent: new), `after`
 * every document the commit writes (each once).
 */
export function checksumDeltas(
  before: readonly StoredDoc[],
  after: readonly StoredDoc[],
): Map<string, bigint> {
  const old = new Map<string, StoredDoc>();
  for (const doc of before) old.set(`${doc.collection}\u0000${doc.id}`, doc);
  const deltas = new Map<string, bigint>();
  for (const doc of after) {
    const previous = old.get(`${doc.collection}\u0000${doc.id}`);
    const delta = subSum(storedHash(doc), previous ? storedHash(previous) : 0n);
    deltas.set(doc.collection, addSum(deltas.get(doc.collection) ?? 0n, delta));
  }
  return deltas;
}

/**
 * The checksums at checkpoint seq `through`, for `collections`, as sent on the wire: a
 * collection's kept sum is exact at `through` when the last commit that changed it is at or
 * before `through` (every commit up to `through` committed before this read); a collection
 * changed by a later commit is left out (the client checks it at its next checkpoint). A
 * collection with no kept sum was never written: empty. `undefined` when the store keeps none.
 */
export async function checksumsAt(
  store: Store,
  scope: string,
  collections: readonly string[],
  through: number,
  head?: ScopeHead,
): Promise<Record<string, string> | undefined> {
  if (!store.checksums || collections.length === 0) return undefined;
  // Read with the head (one snapshot): exact at the head's seq only.
  if (head?.checksums && through !== head.seq) return undefined;
  const rows = head?.checksums ?? (await store.checksums(scope, collections));
  const kept = new Map(rows.map((c) => [c.collection, c]));
  const out: Record<string, string> = {};
  for (const collection of collections) {
    const row = kept.get(collection);
    if (!row) out[collection] = EMPTY_CHECKSUM;
    else if (row.seq <= through) out[collection] = checksumHex(row.sum);
  }
  return out;
}

/** One collection in a `verifyChecksums` report. */
export interface ChecksumVerdict {
  collection: string;
  /** The sum the store keeps (16 hex digits). */
  kept: string;
  /** The sum recomputed from the stored documents. */
  computed: string;
  /** Live documents counted. */
  docs: number;
  ok: boolean;
}

/** What `verifyChecksums` found. */
export interface ChecksumReport {
  scope: string;
  /** The scope's seq both sides were compared at. */
  seq: number;
  collections: ChecksumVerdict[];
  /** Collections whose kept sum differs from the recomputed one. */
  mismatches: number;
  /** True when the kept sums were set to the recomputed ones (`reset`). */
  reset: boolean;
}

const SCAN_PAGE = 1000;

/**
 * Recomputes a scope's checksums from its stored documents (one keyset scan, bounded memory) and
 * compares them with the kept ones. Both sides are taken at one seq: when a commit lands during
 * the scan it starts over (up to `attempts` times, then throws). With `reset`, drifted sums are
 * set to the recomputed ones in a transaction that first checks nothing committed since — clients
 * holding documents changed behind the engine then find the mismatch and repair.
 */
export async function verifyChecksums(
  store: Store,
  scope: string,
  options: { reset?: boolean; collections?: readonly string[]; attempts?: number } = {},
): Promise<ChecksumReport> {
  if (!store.checksums) throw new Error(`${store.kind} store: keeps no integrity checksums`);
  const attempts = options.attempts ?? 5;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const seq = (await store.head(scope)).seq;
    const computed = new Map<string, { sum: bigint; docs: number }>();
    let after: StoredDoc | null = null;
    for (;;) {
      const page: StoredDoc[] = await store.scanDocs(scope, {
        collections: options.collections,
        after,
        limit: SCAN_PAGE,
      });
      for (const doc of page) {
        const entry = computed.get(doc.collection) ?? { sum: 0n, docs: 0 };
        if (!doc.deleted) {
          entry.sum = addSum(entry.sum, storedHash(doc));
          entry.docs++;
        }
        computed.set(doc.collection, entry);
      }
      if (page.length < SCAN_PAGE) break;
      after = page.at(-1)!;
    }
    const kept = new Map(
      (await store.checksums(scope, options.collections)).map((c) => [c.collection, c.sum]),
    );
    if ((await store.head(scope)).seq !== seq) continue; // a commit landed: the two sides may differ in time
    const names = [...new Set([...computed.keys(), ...kept.keys()])].sort();
    const collections = names.map((collection): ChecksumVerdict => {
      const k = kept.get(collection) ?? 0n;
      const c = computed.get(collection) ?? { sum: 0n, docs: 0 };
      return {
        collection,
        kept: checksumHex(k),
        computed: checksumHex(c.sum),
        docs: c.docs,
        ok: k === c.sum,
      };
    });
    const drifted = collections.filter((c) => !c.ok);
    if (!options.reset || drifted.length === 0)
      return { scope, seq, collections, mismatches: drifted.length, reset: false };
    const done = await store.transaction(scope, async (tx) => {
      if (tx.head.seq !== seq || !tx.addChecksums) return false;
      const deltas = new Map(
        drifted.map((c) => [
          c.collection,
          subSum(BigInt(`0x${c.computed}`), BigInt(`0x${c.kept}`)),
        ]),
      );
      await tx.addChecksums(deltas, seq);
      return true;
    });
    if (done) return { scope, seq, collections, mismatches: drifted.length, reset: true };
  }
  throw new Error(
    `verifyChecksums: scope "${scope}" kept changing during ${attempts} attempts; retry when it is quieter`,
  );
}
