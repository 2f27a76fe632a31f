/**
 * Live mode for subscriptions: one `stream({ view, since })` per view next to the default stream,
 * each resuming from its view's own checkpoint. A view's `resync_required` rebuilds that view only.
 */
import type { StreamEvent } from '../shared/protocol.js';
import type { SyncUnsubscribable } from './api.js';
import type { NetQueue } from './live.js';
import { backoffDelay, isResyncRequired } from './retry.js';
import { serial } from './serial.js';
import type { TransferContext } from './transfer.js';
import { isViewRefusal, rebuildView, viewInput, viewState } from './view-sync.js';

/** What a view stream asks of the client. */
export interface ViewStreamHooks {
  /** True while the platform says the device has a network. */
  online(): boolean;
  /** The server refused the view (its rule, params or `allow`): the client drops it. */
  refused(key: string, error: unknown): void;
}

/** One view's live stream. */
class ViewStream {
  private subscription: SyncUnsubscribable | null = null;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private readonly apply = serial();
  running = false;

  constructor(
    private readonly key: string,
    private readonly ctx: TransferContext,
    private readonly net: NetQueue,
    private readonly hooks: ViewStreamHooks,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.subscribe().catch(() => this.later());
  }

  /** Drops the connection and the retry timer; `running` says whether `wake()` comes back. */
  sleep(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.generation++;
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleep();
    await this.apply(async () => undefined);
  }

  wake(): void {
    if (!this.running || this.subscription) return;
    this.failures = 0;
    this.sleep();
    void this.subscribe().catch(() => this.later());
  }

  private async subscribe(): Promise<void> {
    if (!this.running || !this.hooks.online()) return;
    const generation = ++this.generation;
    this.subscription?.unsubscribe();
    this.subscription = null;
    const view = await viewState(this.ctx.replica, this.key);
    if (!view || view.leaving) return void (this.running = false);
    if (!this.running || generation !== this.generation) return;
    const current = () => generation === this.generation;
    const input = this.ctx.versioned({ view: viewInput(view), since: view.checkpoint });
    this.subscription = this.ctx.api.stream.subscribe(input, {
      onData: ({ data }) =>
        void this.apply(() => (current() ? this.handle(data) : Promise.resolve())),
      onError: (error) =>
        void this.apply(() => (current() ? this.failed(error) : Promise.resolve())),
      onComplete: () => void this.apply(async () => (current() ? this.later() : undefined)),
    });
  }

  private async handle(event: StreamEvent): Promise<void> {
    const target = { key: this.key, pass: '' };
    if (event.type === 'changes') {
      await this.ctx.replica.applyServerChanges(
        event.changes,
        event.checkpoint,
        [],
        null,
        {},
        target,
      );
      this.failures = 0;
    } else if (event.type === 'heartbeat') {
      if (event.checkpoint)
        await this.ctx.replica.applyServerChanges([], event.checkpoint, [], null, {}, target);
    } else await this.rebuild();
  }

  private async failed(error: unknown): Promise<void> {
    if (isResyncRequired(error)) return this.rebuild();
    if (isViewRefusal(error)) {
      this.running = false;
      this.sleep();
      return this.hooks.refused(this.key, error);
    }
    this.ctx.events.emit('error', { where: 'view', error });
    this.later();
  }

  /** This view only: rebuild it from `full({ view })`, then stream again from its new checkpoint. */
  private async rebuild(): Promise<void> {
    this.sleep();
    try {
      await this.net(() => rebuildView(this.ctx, this.key));
      this.failures = 0;
      await this.subscribe();
    } catch (error) {
      if (isViewRefusal(error)) {
        this.running = false;
        return this.hooks.refused(this.key, error);
      }
      this.ctx.events.emit('error', { where: 'view', error });
      this.later();
    }
  }

  private later(): void {
    this.sleep();
    if (!this.running || !this.hooks.online()) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.subscribe().catch((error: unknown) => {
          this.ctx.events.emit('error', { where: 'view', error });
          this.later();
        });
      },
      backoffDelay(this.failures++, this.ctx.options.retry),
    );
  }
}

/** The live streams of every subscription, started and stopped with live mode. */
export class ViewStreams {
  private readonly streams = new Map<string, ViewStream>();
  private live = false;

  constructor(
    private readonly ctx: TransferContext,
    private readonly net: NetQueue,
    private readonly hooks: ViewStreamHooks,
  ) {}

  /** Live mode began: streams every ready view given. */
  start(keys: readonly string[]): void {
    this.live = true;
    for (const key of keys) this.add(key);
  }

  /** Streams view `key` (when live). */
  add(key: string): void {
    if (!this.live) return;
    let stream = this.streams.get(key);
    if (!stream)
      this.streams.set(key, (stream = new ViewStream(key, this.ctx, this.net, this.hooks)));
    stream.start();
  }

  /** Stops streaming view `key`. */
  async remove(key: string): Promise<void> {
    const stream = this.streams.get(key);
    this.streams.delete(key);
    await stream?.stop();
  }

  async stop(): Promise<void> {
    this.live = false;
    const all = [...this.streams.values()];
    this.streams.clear();
    await Promise.all(all.map((s) => s.stop()));
  }

  sleep(): void {
    for (const s of this.streams.values()) s.sleep();
  }

  wake(): void {
    for (const s of this.streams.values()) s.wake();
  }

  /** How many view streams are open or retrying. */
  get size(): number {
    return this.streams.size;
  }
}
