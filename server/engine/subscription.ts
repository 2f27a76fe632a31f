/** One live subscriber's bounded queue of commits, fed by the shared feed. */
import type { StreamEvent } from '../../shared/protocol.js';
import type { OplogEntry } from '../stores/store.js';

/** One commit as delivered to subscribers (the same object to every subscriber of the scope). */
export interface FeedCommit {
  seq: number;
  entries: OplogEntry[];
  /**
   * The commit's `changes` event for subscribers without a collections filter, built once by the
   * first of them to need it and then shared by all (see `sharedChangesEvent`): one
   * `latestChanges` per commit instead of one per subscriber, and one object the faces can
   * serialize once. Treat it as read-only.
   */
  event?: StreamEvent;
}

/** What `next()` resolves to. */
export type NextItem = FeedCommit | 'overflow' | 'timeout' | 'aborted';

/**
 * A subscriber's queue. It never grows past `maxQueue`: a subscriber that cannot keep up is marked
 * overflowed (its queue dropped) and told to resync, instead of buffering without bound.
 */
export class Subscription {
  private queue: FeedCommit[] = [];
  private overflowed = false;
  private wake: (() => void) | null = null;
  closed = false;

  constructor(
    readonly scope: string,
    private readonly maxQueue: number,
    private readonly onClose: (sub: Subscription) => void,
  ) {}

  /** Called by the feed for every commit of the scope. */
  push(commit: FeedCommit): void {
    if (this.closed || this.overflowed) return;
    if (this.queue.length >= this.maxQueue) {
      this.overflowed = true;
      this.queue = [];
    } else this.queue.push(commit);
    this.wake?.();
  }

  /** Next commit, `timeout` after `timeoutMs` idle, `aborted` when `signal` fires. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<NextItem> {
    for (;;) {
      if (signal?.aborted || this.closed) return 'aborted';
      if (this.overflowed) return 'overflow';
      const item = this.queue.shift();
      if (item) return item;
      const outcome = await new Promise<'wake' | 'timeout' | 'aborted'>((resolve) => {
        const timer = setTimeout(() => done('timeout'), timeoutMs);
        const onAbort = () => done('aborted');
        const done = (v: 'wake' | 'timeout' | 'aborted') => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.wake = null;
          resolve(v);
        };
        this.wake = () => done('wake');
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (outcome !== 'wake') return outcome;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.wake?.();
    this.onClose(this);
  }
}
