// Reading the oplog: bounded by the head, one writer per commit, pages that keep their promised length.
import type { Document } from 'mongodb';
import type { DocMatch } from '../store.js';
import type { OplogDoc } from './collections.js';

/** A position in the oplog: after (seq, idx); `idx: Infinity` = after the whole commit. */
export interface OplogPosition {
  seq: number;
  idx: number;
}

/** Fetches up to `limit` raw entries after `after`, with seq at most `uptoSeq`, in (seq, idx) order. */
export type FetchOplog = (
  after: OplogPosition,
  uptoSeq: number,
  limit: number | undefined,
) => Promise<OplogDoc[]>;

const UNKNOWN = Symbol('unknown writer');

/**
 * Keeps the entries of each commit's own writer. On a standalone server a writer that lost its
 * lease may still add entries at the seq the next holder committed; the commit's entry 0 names its
 * writer (the holder deletes everything above the head before writing it), so entries of another
 * writer at that seq are dropped. Entries written in transactions carry no writer and are all kept.
 */
export class CommitFilter {
  #seq = Number.NaN;
  #writer: string | undefined | typeof UNKNOWN = UNKNOWN;

  keep(entry: Pick<OplogDoc, 'seq' | 'idx' | 'writer'>): boolean {
    if (entry.seq !== this.#seq) {
      this.#seq = entry.seq;
      this.#writer = entry.idx === 0 ? entry.writer : UNKNOWN;
      return true;
    }
    return this.#writer === UNKNOWN || entry.writer === this.#writer;
  }
}

/**
 * Reads entries after `afterSeq` up to `uptoSeq` (the head the reader saw), at most `limit` of the
 * wanted ones. Dropped entries (another writer's, or entry 0 fetched only to learn a commit's writer)
 * do not shorten the page: it fetches on until `limit` is reached or the range is exhausted, since a
 * short page tells the engine there is nothing more.
 */
export async function readBounded(
  fetch: FetchOplog,
  range: { afterSeq: number; uptoSeq: number; limit?: number },
  wanted: (entry: OplogDoc) => boolean = () => true,
): Promise<OplogDoc[]> {
  const out: OplogDoc[] = [];
  if (range.uptoSeq <= range.afterSeq || range.limit === 0) return out;
  const filter = new CommitFilter();
  let after: OplogPosition = { seq: range.afterSeq, idx: Number.POSITIVE_INFINITY };
  for (;;) {
    const want = range.limit === undefined ? undefined : range.limit - out.length;
    const batch = await fetch(after, range.uptoSeq, want);
    for (const entry of batch) {
      if (filter.keep(entry) && wanted(entry)) {
        out.push(entry);
        if (range.limit !== undefined && out.length >= range.limit) return out;
      }
    }
    if (want === undefined || batch.length < want) return out;
    const last = batch.at(-1)!;
    after = { seq: last.seq, idx: last.idx };
  }
}

/** The MongoDB filter of one fetch: the scope, the range, and (with a collection filter) every commit's entry 0 as well. */
export function oplogFilter(
  scope: string,
  after: OplogPosition,
  uptoSeq: number,
  collections?: readonly string[],
  match?: ReadonlyMap<string, readonly DocMatch[]>,
): Document {
  const range: Document =
    after.idx === Number.POSITIVE_INFINITY
      ? { seq: { $gt: after.seq, $lte: uptoSeq } }
      : {
          $or: [
            { seq: after.seq, idx: { $gt: after.idx } },
            { seq: { $gt: after.seq, $lte: uptoSeq } },
          ],
        };
  const filter: Document = { scope, ...range };
  const and: Document[] = [filter];
  if (collections) and.push({ $or: [{ collection: { $in: [...collections] } }, { idx: 0 }] });
  if (match && match.size > 0) {
    // Entries of a filtered collection: only those a view can show (matching before or after, or without a pre-image).
    const side = (prefix: string, m: readonly DocMatch[]) =>
      m.map((one) =>
        Object.fromEntries(
          Object.entries(one).map(([f, values]) => [
            `${prefix}.${f}`,
            { $in: [...values], $not: { $type: 'array' } },
          ]),
        ),
      );
    const shown = [...match].map(([collection, m]) => ({
      collection,
      $or: [{ before: { $exists: false } }, ...side('data', m), ...side('before', m)],
    }));
    and.push({ $or: [{ collection: { $nin: [...match.keys()] } }, { idx: 0 }, ...shown] });
  }
  return and.length === 1 ? filter : { $and: and };
}
