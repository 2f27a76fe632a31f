/** Dead letters: changes the server refuses for good leave the outbox (never blocking the ones behind), and the app can retry, edit or discard them. */
import { SyncError } from '../shared/errors.js';
import type { DocData, OutboxEntry } from './local-store.js';
import type { LocalChange, Replica } from './replica.js';
import type { PushRefusal } from './retry.js';
import { classifyFailure, describeError } from './status.js';

/** How a change that keeps failing is dead-lettered. */
export interface DeadLetterOptions {
  /**
   * A change pushed alone that fails this many times in a row with an answer that is not a refusal
   * (500, an answer that is not a tRPC one such as a proxy's 413 page, 408) — while the server
   * answers a check request — goes to the dead-letter list. @default 3
   */
  afterAttempts: number;
}

export const DEFAULT_DEAD_LETTER: DeadLetterOptions = { afterAttempts: 3 };

/** What the app may change when it retries a dead letter (see `SyncClient.retryDeadLetter`). */
export interface DeadLetterEdit {
  /** `upsert`: the whole document to send instead; `patch`: the patch; `delete`: a document to put instead of deleting. */
  data: DocData;
}

/**
 * Finds and dead-letters a change that makes every push holding it fail. A batch failing with a
 * suspect answer (see `DeadLetterOptions`) is split in halves at once (the parts before the bad
 * change go through); a change failing alone is counted, and after `afterAttempts` failures it is
 * dead-lettered if `healthy()` — one request that does not hold it — is answered. A failure with
 * no answer (the network, 502/503/504) or 429 is never a reason: that is the server or the
 * network being away, not the change.
 */
export class PoisonTracker {
  private readonly failures = new Map<number, number>();

  constructor(
    private readonly options: DeadLetterOptions,
    private readonly healthy: () => Promise<boolean>,
    /** Called when a batch is being split to isolate a failing change (the client then sends single attempts). */
    private readonly isolating: () => void = () => undefined,
  ) {}

  /** The refusal to act on for `batch` after `error`: split (several entries), dead-letter (one, after the bound), or `null` (retry later). */
  async judge(batch: readonly OutboxEntry[], error: unknown): Promise<PushRefusal | null> {
    if (classifyFailure(error) !== 'transient') return null;
    const { code, message } = describeError(error);
    if (code === 'TOO_MANY_REQUESTS') return null;
    if (batch.length > 1) {
      this.isolating();
      return { code, message, issues: [] };
    }
    const id = batch[0]!.mutationId;
    const n = (this.failures.get(id) ?? 0) + 1;
    if (this.failures.size > 1000) this.failures.clear();
    this.failures.set(id, n);
    if (n < this.options.afterAttempts || !(await this.healthy())) return null;
    this.failures.delete(id);
    return {
      code,
      message: `failed ${n} times in a row, pushed alone, while the server answered other requests: ${message}`,
      issues: [],
    };
  }
}

/**
 * Re-queues dead letter `mutationId` as a new write (a new mutation id, based on the document's
 * current server version), with `edit.data` when given (validated like any write), then removes it
 * from the list. Throws NOT_FOUND when there is no such dead letter, or the write's own error.
 */
export async function retryDeadLetter(
  replica: Replica,
  mutationId: number,
  edit?: DeadLetterEdit,
): Promise<OutboxEntry> {
  const dead = (await replica.rejected()).find((r) => r.change.mutationId === mutationId);
  if (!dead)
    throw new SyncError(
      'NOT_FOUND',
      `retryDeadLetter(${mutationId}): no dead letter with this mutation id`,
    );
  const { collection, id, op } = dead.change;
  let change: LocalChange;
  if (edit) change = { collection, id, op: op === 'delete' ? 'upsert' : op, data: edit.data };
  else
    change =
      op === 'delete'
        ? { collection, id, op }
        : { collection, id, op, data: dead.change.data ?? {} };
  const entry = await replica.write(change);
  await replica.clearRejected([mutationId]);
  return entry;
}
