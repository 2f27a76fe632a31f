/**
 * The live feed: one per engine (so one per server process). It listens to the store's commit
 * events (in-process, LISTEN/NOTIFY or a change stream), reads each new commit once and fans it
 * out to every subscriber of that scope — never one database cursor per subscriber.
 */
import type { Store, StoreEvent } from '../stores/store.js';
import { readCommits } from './commits.js';
import { DispatchIndex, type PlanKeys } from './dispatch.js';
import { Subscription, type FeedCommit } from './subscription.js';
import type { StreamOptions } from './types.js';

interface ScopeFeed {
  subs: Set<Subscription>;
  /** View subscribers by the keys of their plans (see dispatch.ts). */
  index: DispatchIndex<Subscription>;
  /** Last seq read and delivered; -1 until the scope's head was read. */
  lastSeq: number;
  /** Highest seq known to be committed. */
  wanted: number;
  running: boolean;
  /** Settles once the head was read (lastSeq set); rejects when it could not be. */
  ready: Promise<void>;
  /** When the feed first knew of a commit it had not delivered yet (ms); null while caught up. */
  behindSince: number | null;
}

/** What `/sync/status` shows of the live feed: its size and how far delivery trails known commits. */
export interface LiveFeedStatus {
  /** Scopes with at least one live subscriber. */
  scopes: number;
  subscribers: number;
  /** Commits the feed knows were made (notifications, safety poll) but has not delivered yet, all scopes. */
  behindCommits: number;
  /** How long the feed has been behind since it was last caught up (ms, oldest scope); 0 when caught up. */
  lagMs: number;
  /** When the feed last delivered a commit, or null. */
  lastDeliveryAt: Date | null;
}

const READ_CHUNK = 2000;

export class LiveFeed {
  private readonly scopes = new Map<string, ScopeFeed>();
  private unlisten: (() => void) | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastDeliveryAt: number | null = null;

  constructor(
    private readonly store: Store,
    private readonly options: StreamOptions,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Registers a subscriber; commits after the scope's head at registration time reach it. When
   * that head cannot be read (database down), the scope's feed is dropped and this rejects, so the
   * next subscribe starts over instead of joining a feed that never learnt where to start.
   */
  async subscribe(scope: string, onOverflow?: () => void): Promise<Subscription> {
    this.start();
    let feed = this.scopes.get(scope);
    if (!feed) {
      const created: ScopeFeed = {
        subs: new Set(),
        index: new DispatchIndex(),
        lastSeq: -1,
        wanted: -1,
        running: false,
        ready: Promise.resolve(),
        behindSince: null,
      };
      created.ready = this.store.head(scope).then(
        (head) => {
          if (created.lastSeq < 0) created.lastSeq = head.seq;
          this.pump(scope, created);
        },
        (error: unknown) => {
          if (this.scopes.get(scope) === created) this.scopes.delete(scope);
          throw error;
        },
      );
      this.scopes.set(scope, created);
      feed = created;
    }
    const sub = new Subscription(
      scope,
      this.options.maxQueue,
      (s) => this.unsubscribe(s),
      onOverflow,
    );
    feed.subs.add(sub);
    try {
      await feed.ready;
    } catch (error) {
      sub.close();
      throw error;
    }
    return sub;
  }

  /**
   * Registers a subscriber's plan keys: commits whose entries give none of them pass it over
   * without its interest test (see dispatch.ts). Unregistered subscribers get every commit.
   */
  route(sub: Subscription, keys: PlanKeys): void {
    const feed = this.scopes.get(sub.scope);
    if (feed?.subs.has(sub)) feed.index.add(sub, keys);
  }

  /** Number of live subscribers (all scopes). */
  get size(): number {
    let n = 0;
    for (const f of this.scopes.values()) n += f.subs.size;
    return n;
  }

  /** The feed's size and delivery lag (for `/sync/status`). */
  status(now = Date.now()): LiveFeedStatus {
    let subscribers = 0;
    let behindCommits = 0;
    let oldest: number | null = null;
    for (const f of this.scopes.values()) {
      subscribers += f.subs.size;
      if (f.lastSeq >= 0 && f.wanted > f.lastSeq) behindCommits += f.wanted - f.lastSeq;
      if (f.behindSince !== null && (oldest === null || f.behindSince < oldest))
        oldest = f.behindSince;
    }
    const lastDeliveryAt = this.lastDeliveryAt === null ? null : new Date(this.lastDeliveryAt);
    return {
      scopes: this.scopes.size,
      subscribers,
      behindCommits,
      lagMs: oldest === null ? 0 : Math.max(0, now - oldest),
      lastDeliveryAt,
    };
  }

  close(): void {
    this.unlisten?.();
    this.unlisten = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const feed of this.scopes.values()) for (const sub of [...feed.subs]) sub.close();
    this.scopes.clear();
  }

  private start(): void {
    if (this.unlisten) return;
    this.unlisten = this.store.onEvent((event) => this.onStoreEvent(event));
    this.timer = setInterval(() => this.recheckAll(), this.options.pollMs);
    this.timer.unref?.();
  }

  private unsubscribe(sub: Subscription): void {
    const feed = this.scopes.get(sub.scope);
    if (!feed || !feed.subs.has(sub)) return;
    feed.subs.delete(sub);
    feed.index.remove(sub);
    if (feed.subs.size === 0) this.scopes.delete(sub.scope);
  }

  private onStoreEvent(event: StoreEvent): void {
    if (event.type === 'reset') {
      this.recheckAll();
      return;
    }
    const feed = this.scopes.get(event.scope);
    if (!feed) return;
    if (event.seq > feed.wanted) feed.wanted = event.seq;
    this.pump(event.scope, feed);
  }

  /** After a missed-notification risk (reconnect) or on the safety poll: compare heads. */
  private recheckAll(): void {
    for (const [scope, feed] of this.scopes) {
      this.store.head(scope).then(
        (head) => {
          if (head.seq > feed.wanted) feed.wanted = head.seq;
          this.pump(scope, feed);
        },
        (error) => this.onError(error),
      );
    }
  }

  private pump(scope: string, feed: ScopeFeed): void {
    if (feed.behindSince === null && feed.lastSeq >= 0 && feed.wanted > feed.lastSeq)
      feed.behindSince = Date.now();
    if (feed.running || feed.lastSeq < 0 || feed.wanted <= feed.lastSeq) return;
    feed.running = true;
    void (async () => {
      try {
        while (feed.wanted > feed.lastSeq && this.scopes.get(scope) === feed) {
          const page = await readCommits(this.store, scope, feed.lastSeq, READ_CHUNK);
          if (page.entries.length === 0) break;
          let commit: FeedCommit | null = null;
          for (const entry of page.entries) {
            if (!commit || commit.seq !== entry.seq) {
              if (commit) this.deliver(feed, commit);
              commit = { seq: entry.seq, entries: [] };
            }
            commit.entries.push(entry);
          }
          if (commit) this.deliver(feed, commit);
          feed.lastSeq = page.lastSeq!;
          if (feed.lastSeq > feed.wanted) feed.wanted = feed.lastSeq;
        }
      } catch (error) {
        this.onError(error); // the safety poll retries
      } finally {
        feed.running = false;
        if (feed.wanted <= feed.lastSeq) feed.behindSince = null;
      }
    })();
  }

  private deliver(feed: ScopeFeed, commit: FeedCommit): void {
    this.lastDeliveryAt = Date.now();
    const candidates = feed.index.size > 0 ? feed.index.candidates(commit.entries) : null;
    for (const sub of feed.subs) {
      if (candidates && !candidates.has(sub) && feed.index.has(sub)) sub.skip(commit.seq);
      else sub.push(commit);
    }
  }
}
