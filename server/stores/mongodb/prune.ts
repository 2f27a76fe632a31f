// Retention: per scope, the horizon moves first (under the scope's lock), then entries at or below it are deleted.
import type { ScopeHead } from '../store.js';

/**
 * The horizon a prune sets from the scope's head and the highest seq among the entries older than
 * the cutoff (`null`: none). Never above the head (entries above it belong to no commit, or to a
 * commit readers cannot see yet), never back. The prune then deletes entries at or below it, and
 * only those: an entry committed during the prune gets a seq above the head it read.
 */
export function planHorizon(head: ScopeHead, maxSeqBefore: number | null): number {
  if (maxSeqBefore === null) return head.horizon;
  return Math.max(head.horizon, Math.min(maxSeqBefore, head.seq));
}
