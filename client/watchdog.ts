/** The stall watchdog: connected and live, but the outbox has not moved for `stallAfterMs` → a `stalled` verdict with its reason. */
import type { StatusReason } from './status.js';
import { TimerSlot, type Timers } from './timers.js';

/**
 * Watches the outbox while armed (live, leading, the server reachable). Progress is any entry
 * leaving the outbox (the count drops or the oldest entry changes); the clock starts when the
 * watchdog is armed, when the outbox stops being empty, and after every progress. With entries
 * pending and no progress for `stallAfterMs`, `verdict` gets an `OUTBOX_STALLED` reason; progress,
 * an empty outbox or disarming clears it (`verdict(null)`).
 */
export class StallWatchdog {
  private armed = false;
  private count = 0;
  private oldestId: number | null = null;
  private since = 0;
  private stalled = false;
  private lastPushError: { code: string; message: string } | null = null;
  private readonly timer: TimerSlot;

  constructor(
    private readonly timers: Timers,
    private readonly stallAfterMs: number,
    private readonly verdict: (reason: StatusReason | null) => void,
  ) {
    this.timer = new TimerSlot(timers);
  }

  /** Arms (live, leading, reachable) or disarms (offline, stopped, following) the watchdog. */
  setArmed(armed: boolean): void {
    if (armed === this.armed) return;
    this.armed = armed;
    if (armed) this.restart();
    else this.clear();
  }

  /** The outbox as last counted (`oldestId`: the lowest pending mutation id). */
  outbox(count: number, oldestId: number | null): void {
    const progress = count < this.count || (this.oldestId !== null && oldestId !== this.oldestId);
    const started = this.count === 0 && count > 0;
    this.count = count;
    this.oldestId = oldestId;
    if (count === 0) return (this.clear(), undefined);
    if (progress || started) this.restart();
  }

  /** The last push failed (quoted in the reason) or worked (`null`). */
  pushOutcome(error: { code: string; message: string } | null): void {
    this.lastPushError = error;
  }

  private restart(): void {
    this.clear();
    if (!this.armed || this.count === 0) return;
    this.since = this.timers.now();
    this.timer.set(() => this.check(), this.stallAfterMs);
  }

  private check(): void {
    if (!this.armed || this.count === 0) return;
    const waited = this.timers.now() - this.since;
    if (waited < this.stallAfterMs)
      return this.timer.set(() => this.check(), this.stallAfterMs - waited);
    this.stalled = true;
    const last = this.lastPushError
      ? `; last push: ${this.lastPushError.code}: ${this.lastPushError.message}`
      : '';
    this.verdict({
      code: 'OUTBOX_STALLED',
      message: `${this.count} pending change${this.count === 1 ? '' : 's'}, none acknowledged for ${Math.round(waited / 1000)} s while connected${last}`,
      since: new Date(this.since + this.stallAfterMs).toISOString(),
    });
  }

  private clear(): void {
    this.timer.clear();
    if (!this.stalled) return;
    this.stalled = false;
    this.verdict(null);
  }
}
