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
 * Whether a commit can show this subscriber anything (e.g. a view's subscriber and a commit of
 * documents outside its view). A commit it says no to is not queued and does not wake the
 * subscriber; the subscription only remembers the run of seqs it passed over, so the stream can
 * move its position past them (`skippedBefore`, `takeSkipped()`) without reading them back.
 */
export type CommitInterest = (commit: FeedCommit) => boolean;

/** A run of consecutive commits passed over (by the feed's dispatch index or the interest test): `from`..`through`, both included. */
export interface SkippedRun {
  from: number;
  through: number;
}

/**
 * A subscriber's queue. It never grows past `maxQueue`: a subscriber that cannot keep up is marked
 * overflowed (its queue dropped) and told to resync, instead of buffering without bound.
 */
export class Subscription {
  private queue: FeedCommit[] = [];
  /**
   * For each queued commit, the run of passed-over commits just before it (the same index), and
   * after the last queued one (`idleRun`), so the stream's gap check counts them as seen.
   */
  private runsBefore: (SkippedRun | null)[] = [];
  private idleRun: SkippedRun | null = null;
  /** The run passed over just before the commit `next()` last returned (null: none). */
  skippedBefore: SkippedRun | null = null;
  private overflowed = false;
  /** Resolves the pending `next()` wait, if any. */
  private waiter: ((outcome: 'wake' | 'timeout' | 'aborted') => void) | null = null;
  /**
   * One idle timer per subscriber, re-armed (`refresh()`) at each wait, and one abort listener per
   * stream: a commit reaching 1,000 subscribers then costs no timer creation and no
   * add/removeEventListener per subscriber.
   */
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerMs = -1;
  private signal: AbortSignal | null = null;
  private readonly onAbort = () => this.settle('aborted');
  private readonly onTimeout = () => this.settle('timeout');
  closed = false;

  constructor(
    readonly scope: string,
    private readonly maxQueue: number,
    private readonly onClose: (sub: Subscription) => void,
    /** Told once, synchronously, when the queue overflows (the consumer may not be reading). */
    private readonly onOverflow?: () => void,
    /** Set by the stream once it knows what it reads; until then every commit is queued. */
    public interest: CommitInterest | null = null,
  ) {}

  /** Called by the feed for every commit of the scope, in seq order. */
  push(commit: FeedCommit): void {
    if (this.closed || this.overflowed) return;
    if (this.interest && !this.wants(commit)) return this.skip(commit.seq);
    if (this.queue.length >= this.maxQueue) {
      this.overflowed = true;
      this.queue = [];
      this.runsBefore = [];
      this.idleRun = null;
      this.onOverflow?.();
    } else {
      this.queue.push(commit);
      this.runsBefore.push(this.idleRun);
      this.idleRun = null;
    }
    this.settle('wake');
  }

  /**
   * Passes commit `seq` over (the feed's dispatch index found it concerns this subscriber not, or
   * its interest test said no): extends the run after the last queued commit, or starts one; no wake.
   */
  skip(seq: number): void {
    if (this.closed || this.overflowed) return;
    const run = this.idleRun;
    if (run && run.through === seq - 1) run.through = seq;
    else this.idleRun = { from: seq, through: seq };
  }

  /** The interest test; one that throws queues the commit (the stream then meets the error itself). */
  private wants(commit: FeedCommit): boolean {
    try {
      return this.interest!(commit);
    } catch {
      return true;
    }
  }

  /**
   * Takes the run of passed-over commits after the last commit `next()` returned, once the queue
   * is empty (null otherwise): a stream at that commit may move its position to the run's end.
   */
  takeSkipped(): SkippedRun | null {
    if (this.queue.length > 0) return null;
    const run = this.idleRun;
    this.idleRun = null;
    return run;
  }

  /** Next commit, `timeout` after `timeoutMs` idle, `aborted` when `signal` fires. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<NextItem> {
    for (;;) {
      if (signal?.aborted || this.closed) return 'aborted';
      if (this.overflowed) return 'overflow';
      const item = this.queue.shift();
      if (item) {
        this.skippedBefore = this.runsBefore.shift() ?? null;
        return item;
      }
      if (signal && signal !== this.signal) {
        this.signal?.removeEventListener('abort', this.onAbort);
        this.signal = signal;
        signal.addEventListener('abort', this.onAbort, { once: true });
      }
      const outcome = await new Promise<'wake' | 'timeout' | 'aborted'>((resolve) => {
        this.waiter = resolve;
        // The idle timeout counts from the start of this wait.
        if (this.timer && this.timerMs === timeoutMs) this.timer.refresh();
        else {
          if (this.timer) clearTimeout(this.timer);
          this.timer = setTimeout(this.onTimeout, timeoutMs);
          this.timerMs = timeoutMs;
        }
      });
      if (outcome !== 'wake') return outcome;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.runsBefore = [];
    this.idleRun = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.signal = null;
    this.settle('wake');
    this.onClose(this);
  }

  /** Ends the pending wait (a timer or abort firing with no wait pending is ignored). */
  private settle(outcome: 'wake' | 'timeout' | 'aborted'): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = null;
    waiter(outcome);
  }
}
