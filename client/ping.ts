/** The reachability ping: while live, a silent connection is checked with a small request, so a dead server turns the status `offline` within a bound. */
import { backoffDelay, type RetryOptions } from './retry.js';
import type { StatusTracker } from './status.js';
import { TimerSlot, type Timers } from './timers.js';

/** How the client checks that the server still answers while live. */
export interface PingOptions {
  /** Ping after this long without a sign of life (a stream event, a connection change, an answered request) (ms). @default 5000 */
  intervalMs: number;
  /** A ping not answered within this long counts as "unreachable" (ms). @default 4000 */
  timeoutMs: number;
}

export const DEFAULT_PING: PingOptions = { intervalMs: 5_000, timeoutMs: 4_000 };

/**
 * While armed (live, leading, the platform online): after `intervalMs` of silence, or at once when
 * the live connection reports an error, sends one probe (a pull of at most one change from the
 * checkpoint; the answer is not applied) and gives it `timeoutMs`. An answer marks the server
 * reachable; no answer in time or a network failure marks it unreachable, and the next ping
 * follows the retry backoff (exponential, jitter, capped at `retry.maxMs`) until one answers.
 * So a server that stops answering is `offline` at most `intervalMs + timeoutMs` after its last
 * sign of life.
 */
export class Pinger {
  private armed = false;
  private inFlight = false;
  private failures = 0;
  private readonly timer: TimerSlot;

  constructor(
    private readonly timers: Timers,
    private readonly options: PingOptions | null,
    private readonly retry: RetryOptions,
    private readonly probe: (signal: AbortSignal) => Promise<unknown>,
    private readonly status: StatusTracker,
    /** Told of every failed ping (diagnostics' recent errors). */
    private readonly onFailure: (error: unknown) => void = () => undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.timer = new TimerSlot(timers);
  }

  /** Probes sent so far (diagnostics and tests). */
  sent = 0;

  setArmed(armed: boolean): void {
    if (!this.options || armed === this.armed) return;
    this.armed = armed;
    if (armed) this.schedule(this.options.intervalMs);
    else this.timer.clear();
  }

  /** A sign of life: the silence clock starts again. */
  alive(): void {
    this.failures = 0;
    if (this.armed && this.options && !this.inFlight) this.schedule(this.options.intervalMs);
  }

  /** The live connection reported an error: ping now instead of waiting out the silence. */
  suspect(): void {
    if (this.armed && !this.inFlight) this.schedule(0);
  }

  private schedule(ms: number): void {
    this.timer.set(() => void this.ping(), ms);
  }

  private async ping(): Promise<void> {
    if (!this.armed || this.inFlight || !this.options) return;
    this.inFlight = true;
    this.sent++;
    const abort = new AbortController();
    const timeout = new TimerSlot(this.timers);
    const timedOut = new Promise<never>((_, reject) =>
      timeout.set(() => {
        const error = new Error(`ping: no answer within ${this.options!.timeoutMs} ms`);
        abort.abort(); // no reason argument: React Native's AbortController takes none
        reject(error);
      }, this.options!.timeoutMs),
    );
    try {
      await Promise.race([this.probe(abort.signal), timedOut]);
      timeout.clear();
      this.inFlight = false;
      this.status.reachable();
      this.alive();
    } catch (error) {
      timeout.clear();
      this.inFlight = false;
      if (!this.armed) return;
      this.onFailure(error);
      this.status.observe('ping', error);
      this.schedule(
        this.status.server === 'unreachable'
          ? backoffDelay(this.failures++, this.retry, this.random)
          : this.options.intervalMs,
      );
    }
  }
}
