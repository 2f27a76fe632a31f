/** `Subscription`: one synced view (`client.subscribe(rule, params)`), its readiness, status and progress events. */
import { Emitter } from './emitter.js';
import type { ProgressEvent } from './events.js';

/**
 * `pending`: its first sync is not local yet (`ready` waits, also while offline); `ready`: it is;
 * `refused`: the server refused it (undeclared rule, bad params, `allow` false), its documents left;
 * `unsubscribed`: `unsubscribe()` was called.
 */
export type SubscriptionStatus = 'pending' | 'ready' | 'refused' | 'unsubscribed';

/** A subscription's events. */
export interface SubscriptionEvents extends Record<string, unknown> {
  /** How far its first sync, a rebuild (`phase: 'full'`) or a pull of it (`phase: 'pull'`) has got. */
  progress: ProgressEvent;
  /** Its status changed; `error` is the server's refusal for `refused`. */
  status: { status: SubscriptionStatus; error?: unknown };
}

/**
 * A synced view: the documents the server's rule `rule` gives for `params`. Subscribing twice to the
 * same rule and params answers the same object (same `key`); it persists in the local store across
 * restarts until `unsubscribe()`.
 *
 * @example
 * const sub = client.subscribe('project', { projectId: 'p1' });
 * sub.on('progress', (p) => console.log(p.phase, p.done));
 * await sub.ready;          // its first full is local
 * await sub.unsubscribe();  // its documents leave, unless another view holds them
 */
export interface Subscription<
  Rule extends string = string,
  Params = Record<string, unknown> | undefined,
> {
  /** The rule name followed by the canonical JSON of the params (`project{"projectId":"p1"}`; the name alone without params). */
  readonly key: string;
  readonly rule: Rule;
  readonly params: Params;
  /** Resolves once the view's first sync is local; waits while offline; rejects when the server refuses the view. */
  readonly ready: Promise<void>;
  /** See `SubscriptionStatus`. */
  readonly status: SubscriptionStatus;
  /** The server's refusal, once `status` is `refused`. */
  readonly error: unknown;
  /** Stops syncing the view and removes its documents that no other view holds (those with pending writes leave once pushed). */
  unsubscribe(): Promise<void>;
  /** Listens to `progress` or `status`; returns a function that stops listening. */
  on<E extends keyof SubscriptionEvents>(
    event: E,
    listener: (payload: SubscriptionEvents[E]) => void,
  ): () => void;
}

/** The client's side of a subscription: settles `ready` and moves the status. */
export class SubscriptionHandle implements Subscription {
  readonly events = new Emitter<SubscriptionEvents>();
  readonly ready: Promise<void>;
  status: SubscriptionStatus = 'pending';
  error: unknown = undefined;
  private settle!: { resolve: () => void; reject: (error: unknown) => void };

  constructor(
    readonly key: string,
    readonly rule: string,
    readonly params: Record<string, unknown> | undefined,
    private readonly leave: (handle: SubscriptionHandle) => Promise<void>,
  ) {
    this.ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.ready.catch(() => undefined); // a refusal is also announced by `status`
  }

  unsubscribe(): Promise<void> {
    return this.leave(this);
  }

  on<E extends keyof SubscriptionEvents>(
    event: E,
    listener: (payload: SubscriptionEvents[E]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /** Its first sync is local. */
  markReady(): void {
    if (this.status !== 'pending') return;
    this.status = 'ready';
    this.settle.resolve();
    this.events.emit('status', { status: 'ready' });
  }

  /** The server refused it (or it was unsubscribed before it was ready: `ready` rejects then too). */
  end(status: 'refused' | 'unsubscribed', error?: unknown): void {
    if (this.status === 'refused' || this.status === 'unsubscribed') return;
    this.status = status;
    this.error = error;
    this.settle.reject(
      error ?? new Error(`subscription ${this.key} was unsubscribed before it was ready`),
    );
    this.events.emit('status', status === 'refused' ? { status, error } : { status });
  }
}
