/**
 * The client's subscriptions: `subscribe` / `unsubscribe` / list, kept in the local store (meta
 * `views`) across restarts, each fetched at once (waiting while offline), pulled by `sync()` with
 * its own checkpoint, and streamed in live mode.
 */
import { SyncError } from '../shared/errors.js';
import type { Emitter } from './emitter.js';
import type { SyncClientEvents } from './events.js';
import type { ViewState } from './local-store.js';
import type { Replica } from './replica.js';
import { retryDelay } from './retry.js';
import { isOfflineError } from './status.js';
import { SubscriptionHandle } from './subscription.js';
import type { TransferContext } from './transfer.js';
import type { ViewStreams } from './view-live.js';
import { isViewRefusal, pullView, sweepView, updateView, viewState } from './view-sync.js';
import { viewKey } from './view-tags.js';

/** What the subscriptions need from the client. */
export interface ViewsDeps {
  ctx: TransferContext;
  replica: Replica;
  events: Emitter<SyncClientEvents>;
  /** The client's start-up (client id read): nothing is read or written before. */
  ready: Promise<unknown>;
  online(): boolean;
  /** Runs a network step (one at a time, with status and diagnostics); rejects at once while offline. */
  step<T>(task: () => Promise<T>): Promise<T>;
  streams: ViewStreams;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export class Views {
  private readonly handles = new Map<string, SubscriptionHandle>();
  /** Views whose first sync waits for the network. */
  private readonly waiting = new Set<string>();
  private readonly retries = new Map<
    string,
    { timer: ReturnType<typeof setTimeout> | null; failures: number }
  >();
  /** Unsubscribe sweeps under way, by key (a new subscribe of the same key waits for it). */
  private readonly leaving = new Map<string, Promise<void>>();
  /** Resolves once the stored subscriptions are loaded. */
  readonly restored: Promise<void>;
  private closed = false;

  constructor(private readonly deps: ViewsDeps) {
    this.restored = deps.ready.then(() => this.restore());
    this.restored.catch(() => undefined);
    deps.events.on('progress', (event) => {
      if (event.view !== undefined) this.handles.get(event.view)?.events.emit('progress', event);
    });
  }

  private get store() {
    return this.deps.replica.store;
  }

  /** Loads the stored subscriptions: ready ones are ready at once, others fetched, half-left ones finished. */
  private async restore(): Promise<void> {
    const views = (await this.store.getMeta('views')) ?? {};
    for (const view of Object.values(views)) {
      if (view.leaving) {
        // Registered like any unsubscribe, so a new subscribe of the same key waits for it.
        void this.leave(view.key).catch(() => undefined);
        continue;
      }
      let handle = this.handles.get(view.key);
      if (!handle)
        this.handles.set(
          view.key,
          (handle = this.handle(view.key, view.rule, view.params ?? undefined)),
        );
      if (view.ready) this.readied(handle);
      else this.fetch(handle);
    }
  }

  private handle(
    key: string,
    rule: string,
    params: Record<string, unknown> | undefined,
  ): SubscriptionHandle {
    return new SubscriptionHandle(key, rule, params, (h) => this.unsubscribe(h));
  }

  /** `client.subscribe(rule, params)`: the same object for the same rule and params. */
  subscribe(rule: string, params?: Record<string, unknown>): SubscriptionHandle {
    if (typeof rule !== 'string' || rule.length === 0)
      throw new SyncError('BAD_REQUEST', 'subscribe(): the rule name must be a non-empty string', [
        { path: 'view.rule', message: 'must be a non-empty string' },
      ]);
    if (params !== undefined && params !== null && !isPlainObject(params))
      throw new SyncError('BAD_REQUEST', `subscribe('${rule}'): params must be an object`, [
        { path: 'view.params', message: 'must be an object' },
      ]);
    const given = params ?? undefined;
    const key = viewKey(rule, given);
    const existing = this.handles.get(key);
    if (existing && (existing.status === 'pending' || existing.status === 'ready')) return existing;
    const handle = this.handle(key, rule, given);
    this.handles.set(key, handle);
    void (async () => {
      await this.restored;
      await this.leaving.get(key);
      if (this.handles.get(key) !== handle || handle.status !== 'pending') return;
      const state = await this.persist(handle);
      if (state.ready) this.readied(handle);
      else this.fetch(handle);
    })().catch((error: unknown) => handle.end('refused', error));
    return handle;
  }

  /** Stores the subscription unless it is stored already; returns its state. */
  private persist(handle: SubscriptionHandle): Promise<ViewState> {
    return this.deps.replica.exclusive(async () => {
      const views = (await this.store.getMeta('views')) ?? {};
      const held = views[handle.key];
      if (held && !held.leaving) return held;
      const view: ViewState = {
        key: handle.key,
        rule: handle.rule,
        params: handle.params ?? null,
        collection: null,
        checkpoint: null,
        rebuild: null,
        ready: false,
        leaving: false,
        at: new Date().toISOString(),
      };
      await this.store.write([
        { type: 'setMeta', key: 'views', value: { ...views, [handle.key]: view } },
      ]);
      return view;
    });
  }

  /** The subscriptions this client holds (stored ones included, once loaded). */
  async list(): Promise<SubscriptionHandle[]> {
    await this.restored;
    return [...this.handles.values()].filter((h) => h.status === 'pending' || h.status === 'ready');
  }

  /** Fetches a view's first sync now (a network step), or once the network is back. */
  private fetch(handle: SubscriptionHandle): void {
    if (this.closed || handle.status !== 'pending' || this.handles.get(handle.key) !== handle)
      return;
    if (!this.deps.online()) return void this.waiting.add(handle.key);
    this.waiting.delete(handle.key);
    this.deps
      .step(() => pullView(this.deps.ctx, handle.key))
      .then(
        async () => {
          this.retries.delete(handle.key);
          if ((await viewState(this.deps.replica, handle.key))?.ready) this.readied(handle);
        },
        (error: unknown) => {
          if (isViewRefusal(error)) return void this.refuse(handle.key, error);
          if (isOfflineError(error) || !this.deps.online())
            return void this.waiting.add(handle.key);
          this.deps.events.emit('error', { where: 'view', error });
          const retry = this.retries.get(handle.key) ?? { timer: null, failures: 0 };
          this.retries.set(handle.key, retry);
          if (retry.timer) return;
          retry.timer = setTimeout(
            () => {
              retry.timer = null;
              this.fetch(handle);
            },
            retryDelay(error, retry.failures++, this.deps.ctx.options.retry),
          );
        },
      );
  }

  /** A view's first sync is local: `ready` resolves, and live mode streams it. */
  private readied(handle: SubscriptionHandle): void {
    handle.markReady();
    if (handle.status === 'ready') this.deps.streams.add(handle.key);
  }

  /** The network is back: fetch the views that waited for it. */
  wake(): void {
    for (const key of [...this.waiting]) {
      const handle = this.handles.get(key);
      if (handle) this.fetch(handle);
      else this.waiting.delete(key);
    }
  }

  /** The keys of the ready views (what live mode streams). */
  async readyKeys(): Promise<string[]> {
    await this.restored;
    return [...this.handles.values()].filter((h) => h.status === 'ready').map((h) => h.key);
  }

  /**
   * `sync()`'s view half: pulls every view from its checkpoint (rebuilding where needed), finishes
   * interrupted unsubscribes, drops views the server now refuses. Runs inside a network step.
   */
  async pullAll(): Promise<number> {
    await this.restored;
    let pulled = 0;
    for (const view of Object.values((await this.store.getMeta('views')) ?? {})) {
      if (view.leaving) {
        await this.finishLeaving(view.key);
        continue;
      }
      try {
        pulled += await pullView(this.deps.ctx, view.key);
      } catch (error) {
        if (!isViewRefusal(error)) throw error;
        this.deps.events.emit('error', { where: 'view', error });
        await this.refuse(view.key, error);
        continue;
      }
      const handle = this.handles.get(view.key);
      if (handle?.status === 'pending' && (await viewState(this.deps.replica, view.key))?.ready)
        this.readied(handle);
    }
    return pulled;
  }

  /** The server refused view `key`: its subscription ends (`refused`) and its documents leave like on unsubscribe. */
  async refuse(key: string, error: unknown): Promise<void> {
    const handle = this.handles.get(key);
    this.handles.delete(key);
    // Its documents leave first, so when `ready` rejects nothing of the view is left.
    await this.leave(key).catch(() => undefined);
    handle?.end('refused', error);
  }

  private unsubscribe(handle: SubscriptionHandle): Promise<void> {
    handle.end('unsubscribed');
    if (this.handles.get(handle.key) !== handle)
      return this.leaving.get(handle.key) ?? Promise.resolve();
    this.handles.delete(handle.key);
    return this.leave(handle.key);
  }

  /** Stops the view's stream and fetches, marks it leaving, sweeps its documents, forgets it. */
  private leave(key: string): Promise<void> {
    const running = this.leaving.get(key);
    if (running) return running;
    this.waiting.delete(key);
    const retry = this.retries.get(key);
    if (retry?.timer) clearTimeout(retry.timer);
    this.retries.delete(key);
    const done = (async () => {
      await this.restored;
      await this.deps.streams.remove(key);
      await updateView(this.deps.replica, key, (view) => ({ ...view, leaving: true }));
      await this.finishLeaving(key);
    })().finally(() => this.leaving.delete(key));
    this.leaving.set(key, done);
    return done;
  }

  /** Sweeps a leaving view's documents and forgets it (resumed after a restart part way). */
  private async finishLeaving(key: string): Promise<void> {
    await sweepView(this.deps.replica, key, null);
    await updateView(this.deps.replica, key, () => null);
  }

  /** The subscriptions for diagnostics: key and checkpoint. */
  async diagnostics(): Promise<{ name: string; checkpoint: string | null }[]> {
    return Object.values((await this.store.getMeta('views')) ?? {}).map((v) => ({
      name: v.key,
      checkpoint: v.checkpoint,
    }));
  }

  close(): void {
    this.closed = true;
    for (const retry of this.retries.values()) if (retry.timer) clearTimeout(retry.timer);
    this.retries.clear();
  }
}
