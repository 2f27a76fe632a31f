/**
 * Integrity checksums of a view, computed on demand: a view's documents depend on its rule's
 * filter (and, for rules on outside state, on who asks and when), so no sum can be kept for it in
 * O(1) per commit. At a checkpoint a view request reaches (a pull's last page, a stream's last
 * catch-up event), the engine sums the per-document hashes (shared/checksum.ts, as the collection
 * sums) of the view's live matching documents, read through the store's filtered (indexed) scan,
 * and sends the sum only when it is exact there: no commit landed between the checkpoint's head
 * read and the end of the scan. The client compares it with the same sum over the documents it
 * holds for that view and rebuilds the view when they differ.
 */
import { addSum, checksumHex } from '../../shared/checksum.js';
import type { DocKey, Store } from '../stores/store.js';
import { storedHash } from './checksums.js';
import { toMatch, type ReadPlan } from './views.js';

/** Documents read per scan page while summing a view. */
const PAGE = 1000;

/** What one view checksum may read: at most `maxDocs` documents, and each page after the first only if `page()` allows it. */
export interface ScanBudget {
  maxDocs: number;
  /** Asked before each page after the first; false ends the scan with no checksum (e.g. the rate limit's bucket is empty). */
  page?: () => boolean;
}

/**
 * The checksum of the plan's view at seq `through` (`{ [collection]: sum }`, as on the wire), or
 * `undefined` when the plan is not a view request, a commit after `through` landed meanwhile (the
 * client checks the view at a later checkpoint), or the scan would pass `budget`. Costs one scan
 * of the view's documents.
 */
export async function viewChecksumsAt(
  store: Store,
  scope: string,
  plan: ReadPlan,
  through: number,
  budget: ScanBudget = { maxDocs: Number.POSITIVE_INFINITY },
): Promise<Record<string, string> | undefined> {
  if (!plan.view) return undefined;
  const { collection } = plan.view;
  const spec = plan.specs.get(collection);
  if (!spec || spec === 'all') return undefined;
  const match = spec.map(toMatch);
  let sum = 0n;
  let after: DocKey | null = null;
  let read = 0;
  for (let first = true; ; first = false) {
    if (!first && budget.page && !budget.page()) return undefined;
    // One past the budget is enough to know the view is bigger than it.
    const want = Math.min(PAGE, budget.maxDocs + 1 - read);
    const docs = await store.scanDocs(scope, {
      collections: [collection],
      after,
      limit: want,
      match,
    });
    read += docs.length;
    if (read > budget.maxDocs) return undefined;
    for (const doc of docs) sum = addSum(sum, storedHash(doc));
    if (docs.length < want) break;
    after = { collection, id: docs.at(-1)!.id };
  }
  // Exact only if nothing was committed since the checkpoint's head: the documents are then those at `through`.
  if ((await store.head(scope)).seq !== through) return undefined;
  return { [collection]: checksumHex(sum) };
}
