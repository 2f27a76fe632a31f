// Standalone servers only: a per-scope lease on `sync_scopes` that serializes writers without transactions.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Collection, Document } from 'mongodb';
import { SyncError } from '../../../shared/errors.js';
import type { ScopeDoc } from './collections.js';
import { isDuplicateKey } from './errors.js';

/** How long a lease lasts without renewal; a writer that crashed holds its scope at most this long. */
export const LEASE_MS = 30_000;
/** How often a holder renews its lease while it works. */
export const RENEW_EVERY_MS = LEASE_MS / 3;

/**
 * Free, or expired by the server's clock (`$$NOW`): no process compares its own clock with another's.
 * A `leaseUntil` that is missing compares below any date, so it counts as expired.
 */
export const LEASE_FREE: Document = {
  $or: [{ $eq: [{ $ifNull: ['$leaseOwner', null] }, null] }, { $lt: ['$leaseUntil', '$$NOW'] }],
};

/** The update pipeline that takes a lease for `owner` until the server's now plus LEASE_MS. */
export function takeLeaseUpdate(owner: string): Document[] {
  return [{ $set: { leaseOwner: owner, leaseUntil: { $add: ['$$NOW', LEASE_MS] } } }];
}

/** A held lease. */
export interface Lease {
  /** The holder's random id, stored as `leaseOwner` and as `writer` on its oplog entries: the fencing token. */
  readonly owner: string;
  /** The scope document as the lease was taken. */
  readonly doc: ScopeDoc;
  /** Renews now; throws UNAVAILABLE when another writer took the lease (ours expired). */
  assertHeld(): Promise<void>;
  /** Stops renewing and gives the lease back (only if still ours). */
  release(): Promise<void>;
}

/**
 * Takes the scope's lease and returns it with the scope document (created on first use), renewed
 * every RENEW_EVERY_MS until released. Without transactions this is what keeps seq order equal
 * to commit order: one writer per scope at a time. Waits up to `waitMs` for a busy scope.
 */
export async function acquireLease(
  scopes: Collection<ScopeDoc>,
  scope: string,
  waitMs: number,
): Promise<Lease> {
  const owner = randomBytes(12).toString('hex');
  const started = performance.now();
  // The scope document first: MongoDB refuses `$expr` in the filter of an upsert (error 224).
  try {
    await scopes.updateOne(
      { _id: scope },
      { $setOnInsert: { seq: 0, horizon: 0 } },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKey(error)) throw error; // another writer created it at the same time
  }
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const doc = await scopes.findOneAndUpdate(
      { _id: scope, $expr: LEASE_FREE },
      takeLeaseUpdate(owner),
      { returnDocument: 'after' },
    );
    if (doc) return heldLease(scopes, scope, owner, doc);
    if (performance.now() - started > waitMs) {
      throw new SyncError(
        'UNAVAILABLE',
        `scope is busy: another writer held it for over ${Math.round(waitMs / 1000)} s; retry the push`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
  }
}

function heldLease(
  scopes: Collection<ScopeDoc>,
  scope: string,
  owner: string,
  doc: ScopeDoc,
): Lease {
  let lost = false;
  const renew = async (): Promise<void> => {
    if (lost) return;
    const res = await scopes.updateOne({ _id: scope, leaseOwner: owner }, [
      { $set: { leaseUntil: { $add: ['$$NOW', LEASE_MS] } } },
    ]);
    if (res.matchedCount === 0) lost = true;
  };
  const timer = setInterval(() => void renew().catch(() => undefined), RENEW_EVERY_MS);
  timer.unref?.();
  return {
    owner,
    doc,
    async assertHeld() {
      await renew();
      if (lost)
        throw new SyncError(
          'UNAVAILABLE',
          'scope lease lost to another writer (this writer stalled past its lease); retry the push',
        );
    },
    async release() {
      clearInterval(timer);
      await scopes.updateOne({ _id: scope, leaseOwner: owner }, { $set: { leaseOwner: null } });
    },
  };
}
