/**
 * Live mode: a `stream` subscription from the stored checkpoint (tRPC's wsLink reconnects and
 * resumes from the last tracked event by itself), plus a debounced push after each local change.
 */
import type { StreamEvent } from '../shared/protocol.js';
import type { SyncUnsubscribable } from './api.js';
import { backoffDelay, isResyncRequired, isUnauthorized, retryDelay } from './retry.js';
import { serial } from './serial.js';
import type { StatusTracker } from './status.js';
import type { TokenSource } from './token-source.js';
import { pushOutbox, resync, type TransferContext } from './transfer.js';

/** Runs network steps one at a time (shared with `sync()`, so a push never races another push). */
export type NetQueue = <T>(task: () => Promise<T>) => Promise<T>;

export class LiveSync {
  private running = false;
  /** Bumped on every (re)subscribe and on stop, so events of an old subscription are ignored. */
  private generation = 0;
  private subscription: SyncUnsubscribable | null = null;
  private readonly apply = serial();
  private pushTimer: ReturnType<typeof setTimeout> | null = null;
  private streamTimer: ReturnType<typeof setTimeout> | null = null;
  private pushFailures = 0;
  private streamFailures = 0;

  constructor(
    private readonly ctx: TransferContext,
    private readonly net: NetQueue,
    private readonly status: StatusTracker,
    private readonly tokens: TokenSource | null,
  ) {}

  /** The network is back (platform signal): push and resubscribe now instead of waiting out a backoff. */
  wake(): void {
    if (!this.running || this.status.upgradeRequired) return;
    this.pushFailures = 0;
    this.streamFailures = 0;
    if (this.pushTimer) {
      clearTimeout(this.pushTimer);
      this.pushTimer = null;
    }
    this.schedulePush(0);
    if (this.streamTimer) {
      clearTimeout(this.streamTimer);
      this.streamTimer = null;
      void this.subscribe().catch(() => this.resubscribeLater());
    }
  }

  get active(): boolean {
    return this.running;
  }

  /** Subscribes to the stream from the stored checkpoint. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.subscribe();
  }

  /** Unsubscribes and cancels pending timers; waits for events already received to be applied. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (this.pushTimer) clearTimeout(this.pushTimer);
    if (this.streamTimer) clearTimeout(this.streamTimer);
    this.pushTimer = this.streamTimer = null;
    await this.apply(async () => undefined);
  }

  /** Pushes soon (debounced); a failed push is tried again with backoff while live. */
  schedulePush(delay = this.ctx.options.pushDebounceMs): void {
    if (!this.running || this.pushTimer || this.status.upgradeRequired) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      this.net(async () => {
        this.status.begin();
        try {
          const pushed = await pushOutbox(this.ctx);
          this.status.end();
          return pushed;
        } catch (error) {
          this.status.end(error);
          throw error;
        }
      }).then(
        () => (this.pushFailures = 0),
        (error) => {
          this.ctx.events.emit('error', { where: 'push', error });
          this.schedulePush(retryDelay(error, this.pushFailures++, this.ctx.options.retry));
        },
      );
    }, delay);
  }

  private async subscribe(): Promise<void> {
    if (!this.running) return;
    const generation = ++this.generation;
    this.subscription?.unsubscribe();
    const since = await this.ctx.replica.store.getMeta('checkpoint');
    if (!this.running || generation !== this.generation) return;
    this.subscription = this.ctx.api.stream.subscribe(
      this.ctx.versioned({ since, collections: this.ctx.options.collections }),
      {
        onData: ({ data }) => void this.apply(() => (generation === this.generation ? this.handle(data, generation) : Promise.resolve())),
        onError: (error) => void this.apply(() => (generation === this.generation ? this.failed(error) : Promise.resolve())),
        // The server ended the stream (it does after resync_required, which bumped the generation): resume from the checkpoint.
        onComplete: () => void this.apply(async () => (generation === this.generation ? this.resubscribeLater() : undefined)),
      },
    );
  }

  private async handle(event: StreamEvent, generation: number): Promise<void> {
    this.status.observe();
    if (event.type === 'changes') {
      await this.ctx.replica.applyServerChanges(event.changes, event.checkpoint);
      this.streamFailures = 0;
    } else if (event.type === 'heartbeat') {
      // The position the server has delivered through: all earlier events of this subscription are applied.
      if (event.checkpoint) await this.ctx.replica.applyServerChanges([], event.checkpoint);
    } else if (generation === this.generation) {
      await this.resyncAndResubscribe();
    }
  }

  private async failed(error: unknown): Promise<void> {
    if (isResyncRequired(error)) return this.resyncAndResubscribe();
    this.ctx.events.emit('error', { where: 'stream', error });
    this.status.observe(error);
    if (this.status.upgradeRequired) return this.stopStream();
    if (this.tokens && isUnauthorized(error)) {
      // The token expired (the server closed the stream saying so): get a new one, resume from the checkpoint at once.
      await this.tokens.refresh().catch(() => undefined);
      this.generation++;
      this.subscription?.unsubscribe();
      this.subscription = null;
      return this.subscribe();
    }
    this.resubscribeLater();
  }

  private stopStream(): void {
    this.generation++;
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  private async resyncAndResubscribe(): Promise<void> {
    this.generation++;
    this.subscription?.unsubscribe();
    this.subscription = null;
    try {
      await this.net(() => resync(this.ctx));
      this.streamFailures = 0;
      await this.subscribe();
    } catch (error) {
      this.ctx.events.emit('error', { where: 'resync', error });
      this.resubscribeLater();
    }
  }

  /** Subscribes again after a backoff delay (the stored checkpoint says where to resume). */
  private resubscribeLater(): void {
    this.generation++;
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (!this.running || this.streamTimer) return;
    this.streamTimer = setTimeout(() => {
      this.streamTimer = null;
      void this.subscribe().catch((error) => {
        this.ctx.events.emit('error', { where: 'stream', error });
        this.resubscribeLater();
      });
    }, backoffDelay(this.streamFailures++, this.ctx.options.retry));
  }
}
