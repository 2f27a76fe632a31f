/** The client's sync status (`online`, `offline`, `syncing`, `error`, `upgrade-required`) from connectivity signals and request outcomes. */
import type { Emitter } from './emitter.js';
import type { SyncClientEvents } from './events.js';
import { isRetryable, isUpgradeRequired } from './retry.js';

/**
 * - `online`: the last exchange with the server worked;
 * - `offline`: the device has no network (platform signal) or the server could not be reached;
 * - `syncing`: a push, pull or resync is under way;
 * - `error`: the server refused a request for a reason retrying will not fix (see the `error` event);
 * - `upgrade-required`: the server needs a newer schema version; the client stops syncing and keeps its outbox.
 */
export type SyncStatus = 'online' | 'offline' | 'syncing' | 'error' | 'upgrade-required';

/** A platform's connectivity signal: `navigator.onLine` in browsers, NetInfo in React Native. */
export interface Connectivity {
  /** True when the device believes it has a network. */
  online(): boolean;
  /** Calls `listener` on every change; returns a function that stops listening. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/** The browser's `navigator.onLine` and `online` / `offline` events, or `null` where there are none (Node, some RN setups). */
export function browserConnectivity(): Connectivity | null {
  const g = globalThis as { navigator?: { onLine?: boolean }; addEventListener?: (t: string, l: () => void) => void; removeEventListener?: (t: string, l: () => void) => void };
  if (typeof g.navigator?.onLine !== 'boolean' || typeof g.addEventListener !== 'function') return null;
  return {
    online: () => g.navigator!.onLine !== false,
    subscribe(listener) {
      const up = () => listener(true);
      const down = () => listener(false);
      g.addEventListener!('online', up);
      g.addEventListener!('offline', down);
      return () => {
        g.removeEventListener?.('online', up);
        g.removeEventListener?.('offline', down);
      };
    },
  };
}

/** Keeps the status and emits `status` on every change. */
export class StatusTracker {
  private current: SyncStatus;
  private running = 0;
  private last: SyncStatus;

  constructor(
    private readonly events: Emitter<SyncClientEvents>,
    private readonly connectivity: Connectivity | null,
  ) {
    this.last = connectivity && !connectivity.online() ? 'offline' : 'online';
    this.current = this.last;
  }

  get value(): SyncStatus {
    return this.current;
  }

  get upgradeRequired(): boolean {
    return this.current === 'upgrade-required';
  }

  private set(next: SyncStatus): void {
    if (this.current === 'upgrade-required' || next === this.current) return;
    this.current = next;
    this.events.emit('status', { status: next });
  }

  /** A network step starts. */
  begin(): void {
    this.running++;
    this.set('syncing');
  }

  /** A network step ended (`error` when it failed). */
  end(error?: unknown): void {
    this.running = Math.max(0, this.running - 1);
    if (error !== undefined) this.last = this.classify(error);
    else this.last = 'online';
    if (this.last === 'upgrade-required') return this.set('upgrade-required');
    if (this.running === 0) this.set(this.last);
  }

  /** An outcome outside a step (the live stream failed or delivered). */
  observe(error?: unknown): void {
    this.last = error === undefined ? 'online' : this.classify(error);
    if (this.last === 'upgrade-required') return this.set('upgrade-required');
    if (this.running === 0) this.set(this.last);
  }

  /** The platform's connectivity changed. */
  connectivityChanged(online: boolean): void {
    if (!online) this.last = 'offline';
    else if (this.last === 'offline') this.last = 'online';
    if (this.running === 0 || !online) this.set(this.last);
  }

  private classify(error: unknown): SyncStatus {
    if (isUpgradeRequired(error)) return 'upgrade-required';
    if (this.connectivity && !this.connectivity.online()) return 'offline';
    return isRetryable(error) ? 'offline' : 'error';
  }
}
