/** The clock and timers the status machinery runs on, injectable so tests script time instead of sleeping. */

/** A clock and one-shot timers (the real ones by default; tests pass a fake). */
export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` after `ms`; returns a handle for `clear`. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by `set` (a handle already fired or cleared is ignored). */
  clear(handle: unknown): void;
}

/** `Date.now` and `setTimeout` / `clearTimeout`. */
export const realTimers: Timers = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A one-shot timer slot: at most one pending callback, replaced on every `set`. */
export class TimerSlot {
  private handle: unknown = null;

  constructor(private readonly timers: Timers) {}

  /** True while a callback is pending. */
  get pending(): boolean {
    return this.handle !== null;
  }

  /** Replaces any pending callback with `fn` after `ms`. */
  set(fn: () => void, ms: number): void {
    this.clear();
    this.handle = this.timers.set(
      () => {
        this.handle = null;
        fn();
      },
      Math.max(0, ms),
    );
  }

  /** Cancels the pending callback, if any. */
  clear(): void {
    if (this.handle === null) return;
    this.timers.clear(this.handle);
    this.handle = null;
  }
}
