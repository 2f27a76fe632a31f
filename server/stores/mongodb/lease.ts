// Standalone servers only: a per-scope lease on `sync_scopes` that serializes writers without transactions.
import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import { SyncError } from '../../../shared/errors.js';
import type { ScopeDoc } from './collections.js';
import { isDuplicateKey } from './errors.js';

/** How long a lease lasts; a writer that crashed holds its scope at most this long. */
export const LEASE_MS = 30_000;
/** How long a writer waits for a busy scope before answering UNAVAILABLE. */
const WAIT_MS = 30_000;

/**
 * Takes the scope's lease and returns the scope document (created on first use). Without
 * transactions this is what keeps seq order equal to commit order: one writer per scope at a time.
 */
export async function acquireLease(scopes: Collection<ScopeDoc>, scope: string): Promise<{ owner: string; doc: ScopeDoc }> {
  const owner = randomBytes(12).toString('hex');
  const started = Date.now();
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const now = new Date();
    try {
      const doc = await scopes.findOneAndUpdate(
        { _id: scope, $or: [{ leaseOwner: null }, { leaseUntil: { $lt: now } }] },
        { $set: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + LEASE_MS) }, $setOnInsert: { seq: 0, horizon: 0 } },
        { upsert: true, returnDocument: 'after' },
      );
      if (doc) return { owner, doc };
    } catch (error) {
      // Held by another writer: the filter did not match, so the upsert tried to insert a second `_id`.
      if (!isDuplicateKey(error)) throw error;
    }
    if (Date.now() - started > WAIT_MS) {
      throw new SyncError('UNAVAILABLE', `scope is busy: another writer held it for over ${WAIT_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
  }
}

/** Gives the lease back (only if still ours). */
export async function releaseLease(scopes: Collection<ScopeDoc>, scope: string, owner: string): Promise<void> {
  await scopes.updateOne({ _id: scope, leaseOwner: owner }, { $set: { leaseOwner: null } });
}
