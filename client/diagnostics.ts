/** `client.diagnostics()`: what the client knows about its sync (status, checkpoint, lag, outbox, last outcomes, live connection, tab role, recent errors). */
import type { ErrorEvent } from './events.js';
import type { IntegrityCounters } from './integrity.js';
import { describeError, type StatusReason, type SyncStatus } from './status.js';
import type { Timers } from './timers.js';

/** How one push or pull went. */
export interface StepOutcome {
  /** When it ended (ISO time). */
  at: string;
  ok: boolean;
  durationMs: number;
  /** Push: outbox entries answered; pull: changes applied. */
  count?: number;
  /** Why it failed. */
  error?: { code: string; message: string };
}

/** One entry of the recent-errors ring (the last `RECENT_ERRORS`). */
export interface RecentError {
  at: string;
  where: ErrorEvent['where'] | 'ping';
  code: string;
  message: string;
}

/** A subscription (`client.subscribe`): its key and the view's checkpoint. */
export interface DiagnosticsSubscription {
  name: string;
  checkpoint: string | null;
}

/** A snapshot of the client's sync, for an inspector or a support report. Plain JSON. */
export interface SyncDiagnostics {
  /** When it was taken (ISO time). */
  at: string;
  status: SyncStatus;
  /** Why (for `offline`, `stalled`, `error`, `upgrade-required`). */
  reason: StatusReason | null;
  clientId: string;
  /** The stored checkpoint (opaque), `null` before the first pull. */
  checkpoint: string | null;
  /**
   * How far the local state is behind the server's head. The server does not send its head, so
   * this is what the client can know: `changes` is 0 while the live stream is connected and caught
   * up (the head seen since it last reconnected; the server then sends each change as it commits)
   * or within a second of a pull that reached the end, else `null` (unknown); `seconds` is 0 while
   * the live stream is connected and caught up, else the time since the
   * local state was last known to equal the server's (`headSeenAt`: the end of a complete pull or
   * a stream heartbeat), `null` if never.
   */
  lag: { changes: number | null; seconds: number | null; headSeenAt: string | null };
  /** The outbox: entries not yet answered, when the oldest was written (its HLC's wall clock) and its age. */
  outbox: { size: number; oldestAt: string | null; oldestAgeMs: number | null };
  /** Changes in the dead-letter list (`deadLetters()`). */
  deadLetters: number;
  lastPush: StepOutcome | null;
  lastPull: StepOutcome | null;
  /** Live mode: whether it runs here, the connection's state as the link reports it, the last stream event and the reachability pings sent. */
  live: {
    active: boolean;
    connection: 'idle' | 'connecting' | 'connected';
    connectionError: string | null;
    lastEventAt: string | null;
    pings: number;
  };
  /** The platform's signal and the last reachability signal. */
  reachability: { platformOnline: boolean; server: 'reachable' | 'unreachable' | 'unknown' };
  /** `only`: no `tabs` option; `leader`: this tab syncs; `follower`: another tab syncs (its diagnostics are shown, `tab.answered` says whether it answered). */
  tab: { role: 'only' | 'leader' | 'follower'; answered: boolean };
  /** The subscriptions (`name`: the subscription key) with their checkpoints. */
  subscriptions: DiagnosticsSubscription[];
  /** The most recent errors, oldest first (at most `RECENT_ERRORS`). */
  errors: RecentError[];
  /** Integrity checksums since the client was created (`null`: the `integrity` option is off); see `IntegrityCounters`. */
  integrity: IntegrityCounters | null;
}

/** How many recent errors `diagnostics().errors` keeps. */
export const RECENT_ERRORS = 20;

/** Records outcomes as they happen, for `diagnostics()`. */
export class DiagnosticsRecorder {
  lastPush: StepOutcome | null = null;
  lastPull: StepOutcome | null = null;
  headSeenAtMs: number | null = null;
  connection: SyncDiagnostics['live']['connection'] = 'idle';
  connectionError: string | null = null;
  lastEventAtMs: number | null = null;
  /** When the live connection was last lost (a state change with an error). */
  private lostAtMs: number | null = null;
  private readonly ring: RecentError[] = [];

  constructor(private readonly timers: Timers) {}

  /** A push or pull (resync counts as a pull) ended; `startedAt` from `timers.now()`. */
  step(where: 'push' | 'pull', startedAt: number, error?: unknown, count?: number): void {
    const now = this.timers.now();
    const outcome: StepOutcome = {
      at: new Date(now).toISOString(),
      ok: error === undefined,
      durationMs: now - startedAt,
    };
    if (typeof count === 'number') outcome.count = count;
    if (error !== undefined) outcome.error = describeError(error);
    if (where === 'push') this.lastPush = outcome;
    else {
      this.lastPull = outcome;
      if (error === undefined) this.headSeenAtMs = now; // a pull runs until the server says there is no more
    }
  }

  /** An `error` event (or a failed ping). */
  error(where: RecentError['where'], error: unknown): void {
    this.ring.push({
      at: new Date(this.timers.now()).toISOString(),
      where,
      ...describeError(error),
    });
    if (this.ring.length > RECENT_ERRORS) this.ring.shift();
  }

  /** A stream event arrived. */
  streamEvent(type: string): void {
    const now = this.timers.now();
    this.lastEventAtMs = now;
    if (type === 'heartbeat') this.headSeenAtMs = now;
  }

  /** The live connection's state changed. */
  connectionState(state: SyncDiagnostics['live']['connection'], error?: unknown): void {
    this.connection = state;
    if (state === 'connected') this.connectionError = null;
    else if (error !== undefined) {
      this.connectionError = describeError(error).message;
      this.lostAtMs = this.timers.now();
    }
  }

  errors(): RecentError[] {
    return [...this.ring];
  }

  /**
   * The lag as far as it is known (see `SyncDiagnostics.lag`); `liveConnected`: the stream is
   * connected and the server reachable. Live, it is 0 once the head was seen (a complete pull or a
   * heartbeat) after the connection was last lost: a resumed stream may still be catching up before.
   */
  lag(liveConnected: boolean): SyncDiagnostics['lag'] {
    const headSeenAt =
      this.headSeenAtMs === null ? null : new Date(this.headSeenAtMs).toISOString();
    const caughtUp =
      this.headSeenAtMs !== null && (this.lostAtMs === null || this.headSeenAtMs >= this.lostAtMs);
    if (liveConnected && caughtUp) return { changes: 0, seconds: 0, headSeenAt };
    if (this.headSeenAtMs === null) return { changes: null, seconds: null, headSeenAt };
    const seconds = Math.max(0, (this.timers.now() - this.headSeenAtMs) / 1000);
    const justPulled =
      this.lastPull?.ok === true && this.timers.now() - Date.parse(this.lastPull.at) < 1000;
    return { changes: justPulled ? 0 : null, seconds: Math.round(seconds * 10) / 10, headSeenAt };
  }
}
