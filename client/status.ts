/** The client's sync status, derived from facts (platform connectivity, server reachability, refusals, the stall watchdog, running steps) with hysteresis. */
import { SyncError } from '../shared/errors.js';
import { errorCode, isRetryable, isUpgradeRequired } from './retry.js';
import type { Timers } from './timers.js';

/**
 * - `online`: the server is reachable (or nothing says otherwise) and nothing is wrong;
 * - `offline`: the platform says the device has no network, or the server cannot be reached
 *   (a request got no answer, the live connection dropped and a ping failed or timed out);
 * - `syncing`: a push, pull or resync is under way while the status was `online`;
 * - `stalled`: connected, live, but the outbox has not drained for `stallAfterMs` (see the reason);
 * - `error`: the server refused a request for a reason retrying will not fix (see the reason);
 * - `upgrade-required`: the server needs a newer schema version; the client stops syncing and keeps its outbox.
 */
export type SyncStatus =
  'online' | 'offline' | 'syncing' | 'stalled' | 'error' | 'upgrade-required';

/** Why the status is `offline`, `stalled`, `error` or `upgrade-required`. */
export interface StatusReason {
  /**
   * `PLATFORM_OFFLINE`, `SERVER_UNREACHABLE`, `OUTBOX_STALLED`, `UPGRADE_REQUIRED`, or for `error`
   * the refusal's code (`UNAUTHORIZED`, `FORBIDDEN`, `BAD_REQUEST`, `CLIENT_ID_CONFLICT`, … ;
   * `ERROR` when the failure carried none).
   */
  code: string;
  /** A sentence for developers (not for end users). */
  message: string;
  /** When this reason started (ISO time). */
  since: string;
}

/** The status with its reason and the outbox at that moment (the `status` event's payload and part of `diagnostics()`). */
export interface StatusDetail {
  status: SyncStatus;
  /** Set for `offline`, `stalled`, `error` and `upgrade-required`; `null` for `online` and `syncing`. */
  reason: StatusReason | null;
  /** Outbox entries not yet answered by the server (as last counted). */
  pending: number;
  /** Age of the oldest pending write (ms, from its HLC's wall clock), `null` when none is pending. */
  oldestPendingAgeMs: number | null;
}

/** A platform's connectivity signal: `navigator.onLine` in browsers, NetInfo in React Native. */
export interface Connectivity {
  /** True when the device believes it has a network. */
  online(): boolean;
  /** Calls `listener` on every change; returns a function that stops listening. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/** The browser's `navigator.onLine` and `online` / `offline` events, or `null` where there are none (Node, some RN setups). */
export function browserConnectivity(): Connectivity | null {
  const g = globalThis as {
    navigator?: { onLine?: boolean };
    addEventListener?: (t: string, l: () => void) => void;
    removeEventListener?: (t: string, l: () => void) => void;
  };
  if (typeof g.navigator?.onLine !== 'boolean' || typeof g.addEventListener !== 'function')
    return null;
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

const OFFLINE_ERRORS = new WeakSet<object>();

/** The error a step rejects with, at once and without a request, while the platform says the device is offline (`SyncError` `UNAVAILABLE`). */
export function offlineError(what: string): SyncError {
  const error = new SyncError(
    'UNAVAILABLE',
    `${what}: offline (the device has no network); nothing was sent`,
  );
  OFFLINE_ERRORS.add(error);
  return error;
}

/** True for an error made by `offlineError` (no request was sent). */
export function isOfflineError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && OFFLINE_ERRORS.has(error);
}

/** HTTP statuses and tRPC codes that mean "the server is not there" (a proxy answering for it). */
const UNREACHABLE_STATUS = new Set([502, 503, 504]);
const UNREACHABLE_CODES = new Set(['BAD_GATEWAY', 'SERVICE_UNAVAILABLE', 'GATEWAY_TIMEOUT']);

/**
 * What a failure says about the server:
 * - `upgrade`: UPGRADE_REQUIRED;
 * - `unreachable`: no answer at all (network error, connection refused or closed, a timed-out
 *   ping) or a proxy's 502/503/504;
 * - `transient`: the server answered, and retrying may help (408, 429, 500, an answer that is not
 *   a tRPC one): reachable, not a refusal;
 * - `refusal`: the server answered with a refusal retrying will not fix (401 after the token
 *   refresh, 403, a request-level 400, CLIENT_ID_CONFLICT, …), or a local error (`SyncError`).
 */
export function classifyFailure(
  error: unknown,
): 'upgrade' | 'unreachable' | 'transient' | 'refusal' {
  if (isUpgradeRequired(error)) return 'upgrade';
  if (error instanceof SyncError) return error.code === 'UNAVAILABLE' ? 'unreachable' : 'refusal';
  const e = error as {
    data?: { code?: unknown; httpStatus?: unknown } | null;
    cause?: unknown;
  } | null;
  const data = e?.data;
  if (data == null) {
    // An answer that could not be read (a proxy's HTML page) is still an answer.
    const cause = e?.cause as { name?: unknown } | undefined;
    return cause?.name === 'SyntaxError' ? 'transient' : 'unreachable';
  }
  if (typeof data.httpStatus === 'number' && UNREACHABLE_STATUS.has(data.httpStatus))
    return 'unreachable';
  if (typeof data.code === 'string' && UNREACHABLE_CODES.has(data.code)) return 'unreachable';
  return isRetryable(error) ? 'transient' : 'refusal';
}

/** A failure's code and message for a reason or a diagnostics entry. */
export function describeError(error: unknown): { code: string; message: string } {
  const code = error instanceof SyncError ? error.code : (errorCode(error) ?? 'ERROR');
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'string'
        ? error
        : (JSON.stringify(error) ?? String(error));
  return { code, message };
}

/** What the status is derived from. */
export interface StatusFacts {
  /** The platform's signal (true without one). */
  platformOnline: boolean;
  /** The last reachability signal: a success or connection (`reachable`), a failure with no answer (`unreachable`), or none since the platform came back (`unknown`). */
  server: 'reachable' | 'unreachable' | 'unknown';
  /** The latest non-retryable refusal still standing (each is cleared by a success on its own channel). */
  refusal: StatusReason | null;
  /** Set by the stall watchdog. */
  stalled: StatusReason | null;
  /** Network steps under way. */
  running: number;
  /** Live mode is working on the outbox: from a push's first attempt until one works (retries after transient failures included). */
  retrying?: boolean;
  /** Sticky once the server said UPGRADE_REQUIRED. */
  upgrade: boolean;
}

/**
 * The status for `facts`, given the `current` one. Hysteresis: a state holds until its own
 * condition changes, never because an attempt starts — `offline` holds while the server is
 * unreachable and, after the platform comes back, until something answers; `stalled` until the
 * outbox moves; `error` until the same kind of request (push, pull, stream) succeeds; `syncing`
 * while live mode retries a push that failed transiently (429, 500), until one succeeds. So a retry
 * loop never flips `offline` / `error` / `stalled` / `syncing` to another state and back.
 */
export function deriveStatus(facts: StatusFacts, current: SyncStatus): SyncStatus {
  if (facts.upgrade) return 'upgrade-required';
  if (!facts.platformOnline || facts.server === 'unreachable') return 'offline';
  if (facts.server === 'unknown' && current === 'offline') return 'offline';
  if (facts.stalled) return 'stalled';
  if (facts.refusal) return 'error';
  return facts.running > 0 || facts.retrying ? 'syncing' : 'online';
}

/** Where an outcome came from; a refusal is cleared only by a success on its own channel (a heartbeat does not clear a refused push). */
export type StatusChannel = 'push' | 'pull' | 'stream' | 'ping';

/** Keeps the facts and the derived status; calls `emit` on every change of status or of its reason's code. */
export class StatusTracker {
  private facts: StatusFacts;
  private current: SyncStatus;
  private reasonNow: StatusReason | null = null;
  private unreachableReason: StatusReason | null = null;
  private readonly refusals = new Map<StatusChannel, StatusReason>();
  private outboxStats = { count: 0, oldestAtMs: null as number | null };
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly emit: (detail: StatusDetail) => void,
    connectivity: Connectivity | null,
    private readonly timers: Timers,
  ) {
    this.facts = {
      platformOnline: connectivity ? connectivity.online() : true,
      server: 'unknown',
      refusal: null,
      stalled: null,
      running: 0,
      upgrade: false,
    };
    this.current = this.facts.platformOnline ? 'online' : 'offline';
    this.reasonNow = this.reasonFor(this.current);
  }

  /** The current status. */
  get value(): SyncStatus {
    return this.current;
  }

  /** Why (for `offline`, `stalled`, `error`, `upgrade-required`). */
  get reason(): StatusReason | null {
    return this.reasonNow;
  }

  get upgradeRequired(): boolean {
    return this.facts.upgrade;
  }

  /** The platform's last signal (true without one). */
  get platformOnline(): boolean {
    return this.facts.platformOnline;
  }

  /** The last reachability signal. */
  get server(): StatusFacts['server'] {
    return this.facts.server;
  }

  /** The status, its reason and the outbox as last counted. */
  detail(): StatusDetail {
    const { count, oldestAtMs } = this.outboxStats;
    return {
      status: this.current,
      reason: this.reasonNow,
      pending: count,
      oldestPendingAgeMs:
        count > 0 && oldestAtMs !== null ? Math.max(0, this.timers.now() - oldestAtMs) : null,
    };
  }

  /** Calls `fn` after every fact change (the watchdog and the ping re-arm on it); returns a function that stops. */
  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => void this.watchers.delete(fn);
  }

  /** A network step starts. */
  begin(): void {
    this.update({ running: this.facts.running + 1 });
  }

  /** A network step ended; `channel` and `error` report its outcome (`channel` null: a span whose parts reported theirs). */
  end(channel: StatusChannel | null, error?: unknown): void {
    const running = Math.max(0, this.facts.running - 1);
    this.update(channel ? { running, ...this.outcomeFacts(channel, error) } : { running });
  }

  /** An outcome outside a step: a live stream event or failure, a ping's failure. */
  observe(channel: StatusChannel, error?: unknown): void {
    this.update(this.outcomeFacts(channel, error));
  }

  /** A sign of life that clears no refusal (the live connection opened, a ping answered): the server is reachable. */
  reachable(): void {
    if (this.facts.server !== 'reachable') this.update({ server: 'reachable' });
  }

  /** The platform's connectivity changed. Back online, reachability is unknown until something answers. */
  connectivityChanged(online: boolean): void {
    if (online === this.facts.platformOnline) return;
    this.update({ platformOnline: online, server: 'unknown' });
  }

  /** Live mode started pushing (`true`, held across failed attempts), or a push worked / live mode stopped (`false`). */
  retrying(on: boolean): void {
    if (on !== (this.facts.retrying === true)) this.update({ retrying: on });
  }

  /** The stall watchdog's verdict (`null`: not stalled). */
  stalled(reason: StatusReason | null): void {
    if (
      reason?.code !== this.facts.stalled?.code ||
      reason?.message !== this.facts.stalled?.message
    )
      this.update({ stalled: reason });
  }

  /** The outbox as last counted (carried by the next `status` event and `detail()`; emits nothing by itself). */
  outbox(count: number, oldestAtMs: number | null): void {
    this.outboxStats = { count, oldestAtMs };
  }

  private outcomeFacts(channel: StatusChannel, error: unknown): Partial<StatusFacts> {
    if (error === undefined) {
      this.refusals.delete(channel);
      return { server: 'reachable', refusal: this.latestRefusal() };
    }
    if (isOfflineError(error)) return {}; // nothing was sent: the platform signal already says offline
    const kind = classifyFailure(error);
    const { code, message } = describeError(error);
    const since = new Date(this.timers.now()).toISOString();
    if (kind === 'upgrade') {
      this.refusals.set(channel, { code: 'UPGRADE_REQUIRED', message, since });
      return { upgrade: true, server: 'reachable', refusal: this.latestRefusal() };
    }
    if (kind === 'unreachable') {
      if (this.facts.server !== 'unreachable' || !this.unreachableReason)
        this.unreachableReason = {
          code: 'SERVER_UNREACHABLE',
          message: `the server cannot be reached: ${message}`,
          since,
        };
      return { server: 'unreachable' };
    }
    if (kind === 'transient') return { server: 'reachable' };
    const held = this.refusals.get(channel);
    if (!held || held.code !== code || held.message !== message)
      this.refusals.set(channel, { code, message, since });
    return { server: 'reachable', refusal: this.latestRefusal() };
  }

  private latestRefusal(): StatusReason | null {
    let latest: StatusReason | null = null;
    for (const reason of this.refusals.values())
      if (!latest || reason.since >= latest.since) latest = reason;
    return latest;
  }

  private reasonFor(status: SyncStatus): StatusReason | null {
    const since = new Date(this.timers.now()).toISOString();
    if (status === 'upgrade-required')
      return this.facts.refusal?.code === 'UPGRADE_REQUIRED'
        ? this.facts.refusal
        : { code: 'UPGRADE_REQUIRED', message: 'the server needs a newer schema version', since };
    if (status === 'offline') {
      if (!this.facts.platformOnline)
        return {
          code: 'PLATFORM_OFFLINE',
          message: 'the device has no network (platform signal)',
          since,
        };
      return (
        this.unreachableReason ?? {
          code: 'SERVER_UNREACHABLE',
          message: 'nothing has answered since the network came back',
          since,
        }
      );
    }
    if (status === 'stalled') return this.facts.stalled;
    if (status === 'error') return this.facts.refusal;
    return null;
  }

  private update(change: Partial<StatusFacts>): void {
    const before = this.facts.server;
    this.facts = {
      ...this.facts,
      ...change,
      upgrade: this.facts.upgrade || change.upgrade === true,
    };
    if (this.facts.server !== 'unreachable' && before === 'unreachable')
      this.unreachableReason = null;
    const next = deriveStatus(this.facts, this.current);
    const previous = this.reasonNow;
    let reason = this.reasonFor(next);
    // Keep the reason (and its `since`) while the status and the reason's code hold.
    if (reason && previous && next === this.current && reason.code === previous.code)
      reason = { ...reason, since: previous.since };
    const changed = next !== this.current || reason?.code !== previous?.code;
    this.current = next;
    this.reasonNow = reason;
    if (changed) this.emit(this.detail());
    for (const fn of this.watchers) fn();
  }
}
