/**
 * Live mode: a `stream` subscription from the stored checkpoint (tRPC's wsLink reconnects and
 * resumes from the last tracked event by itself), plus a debounced push after each local change.
 */
import type { StreamEvent } from '../shared/protocol.js';
import type { StreamConnectionState, SyncUnsubscribable } from './api.js';
import { backoffDelay, isResyncRequired, isUnauthorized, retryDelay } from './retry.js';
import { serial } from './serial.js';
import { isOfflineError, type StatusTracker } from './status.js';
import type { TokenSource } from './token-source.js';
import { resync, type TransferContext } from './transfer.js';

/** Runs network steps one at a time (shared with `sync()`, so a push never races another push). */
export type NetQueue = <T>(task: () => Promise<T>) => Promise<T>;

/** What live mode tells the rest of the client, and asks of it. */
export interface LiveHooks {
  /** One push of the outbox with no retries inside (live mode's own backoff is the only retry loop), status and diagnostics included. */
  pushOnce(): Promise<number>;
  /** True while the platform says the device has a network: no push, pull or subscribe is attempted otherwise. */
  online(): boolean;
  /** A sign of life from the server (stream event, connection opened). */
  alive(): void;
  /** The live connection reported an error: check reachability now. */
  suspect(): void;
  /** The live connection's state, for diagnostics. */
  connection(state: 'idle' | 'connecting' | 'connected', error?: unknown): void;
  /** A stream event arrived (`heartbeat`: the server has sent everything up to its head). */
  streamEvent(type: StreamEvent['type']): void;
}

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
  /** UNAUTHORIZED stream closes since the last event: the first refreshes and resubscribes at once, later ones back off. */
  private unauthorized = 0;

  constructor(
    private readonly ctx: TransferContext,
    private readonly net: NetQueue,
    private readonly status: StatusTracker,
    private readonly tokens: TokenSource | null,
    private readonly hooks: LiveHooks,
  ) {}

  /**
   * The network is back (platform signal), or the server answers again after being unreachable:
   * push and resubscribe now instead of waiting out a backoff.
   */
  wake(): void {
    if (!this.running || this.status.upgradeRequired || !this.hooks.online()) return;
    this.pushFailures = 0;
    this.streamFailures = 0;
    if (this.pushTimer) {
      clearTimeout(this.pushTimer);
      this.pushTimer = null;
    }
    this.schedulePush(0);
    if (this.streamTimer || !this.subscription) {
      if (this.streamTimer) clearTimeout(this.streamTimer);
      this.streamTimer = null;
      void this.subscribe().catch(() => this.resubscribeLater());
    }
  }

  /** The platform went offline: drop the stream and the push timer (no request until `wake()`). */
  sleep(): void {
    this.status.retrying(false);
    if (this.pushTimer) clearTimeout(this.pushTimer);
    if (this.streamTimer) clearTimeout(this.streamTimer);
    this.pushTimer = this.streamTimer = null;
    this.generation++;
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.hooks.connection('idle');
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
    this.sleep();
    await this.apply(async () => undefined);
  }

  /** Pushes soon (debounced); a failed push is tried again with backoff while live, never while offline. */
  schedulePush(delay = this.ctx.options.pushDebounceMs): void {
    if (!this.running || this.pushTimer || this.status.upgradeRequired || !this.hooks.online())
      return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      this.hooks.pushOnce().then(
        () => {
          this.pushFailures = 0;
          this.status.retrying(false);
        },
        (error: unknown) => {
          if (isOfflineError(error) || !this.running) return this.status.retrying(false); // wake() pushes when the network is back
          this.schedulePush(retryDelay(error, this.pushFailures++, this.ctx.options.retry));
        },
      );
    }, delay);
  }

  private async subscribe(): Promise<void> {
    if (!this.running || !this.hooks.online()) return;
    const generation = ++this.generation;
    this.subscription?.unsubscribe();
    this.subscription = null;
    const since = await this.ctx.replica.store.getMeta('checkpoint');
    if (!this.running || generation !== this.generation || !this.hooks.online()) return;
    const current = () => generation === this.generation;
    this.hooks.connection('connecting');
    this.subscription = this.ctx.api.stream.subscribe(
      this.ctx.versioned({ since, collections: this.ctx.options.collections }),
      {
        onStarted: () => {
          if (!current()) return;
          this.hooks.connection('connected');
          this.hooks.alive();
        },
        onConnectionStateChange: (state: StreamConnectionState) => {
          if (!current()) return;
          if (state.state === 'pending') {
            this.hooks.connection('connected');
            this.status.reachable();
            this.hooks.alive();
          } else if (state.state === 'connecting') {
            this.hooks.connection('connecting', state.error ?? undefined);
            if (state.error) this.hooks.suspect();
          } else {
            this.hooks.connection('idle');
          }
        },
        onData: ({ data }) =>
          void this.apply(() => (current() ? this.handle(data, generation) : Promise.resolve())),
        onError: (error) =>
          void this.apply(() => (current() ? this.failed(error) : Promise.resolve())),
        // The server ended the stream (it does after resync_required, which bumped the generation): resume from the checkpoint.
        onComplete: () =>
          void this.apply(async () => (current() ? this.resubscribeLater() : undefined)),
      },
    );
  }

  private async handle(event: StreamEvent, generation: number): Promise<void> {
    this.status.observe('stream');
    this.hooks.alive();
    this.unauthorized = 0;
    if (event.type === 'changes') {
      await this.ctx.replica.applyServerChanges(event.changes, event.checkpoint);
      this.streamFailures = 0;
    } else if (event.type === 'heartbeat') {
      // The position the server has delivered through: all earlier events of this subscription are applied.
      if (event.checkpoint) await this.ctx.replica.applyServerChanges([], event.checkpoint);
    } else if (generation === this.generation) {
      await this.resyncAndResubscribe();
    }
    this.hooks.streamEvent(event.type);
  }

  private async failed(error: unknown): Promise<void> {
    if (isResyncRequired(error)) return this.resyncAndResubscribe();
    this.ctx.events.emit('error', { where: 'stream', error });
    this.hooks.connection('idle', error);
    this.status.observe('stream', error);
    if (this.status.upgradeRequired) return this.stopStream();
    if (this.tokens && isUnauthorized(error)) {
      // The token expired (the server closed the stream saying so): get a new one, resume from the
      // checkpoint at once — once; a token refused again (a new server secret) waits out the backoff.
      await this.tokens.refresh().catch(() => undefined);
      if (this.unauthorized++ > 0) return this.resubscribeLater();
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

  /** Subscribes again after a backoff delay (exponential, jitter, capped at `retry.maxMs`; the stored checkpoint says where to resume). */
  private resubscribeLater(): void {
    this.generation++;
    this.subscription?.unsubscribe();
    this.subscription = null;
    if (!this.running || this.streamTimer || !this.hooks.online()) return;
    this.streamTimer = setTimeout(
      () => {
        this.streamTimer = null;
        void this.subscribe().catch((error) => {
          this.ctx.events.emit('error', { where: 'stream', error });
          this.resubscribeLater();
        });
      },
      backoffDelay(this.streamFailures++, this.ctx.options.retry),
    );
  }
}
