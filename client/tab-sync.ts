/**
 * The tabs of one origin sharing one local store, seen from one sync client (`tabs` option): only
 * the leader tab talks to the server; every tab announces its store changes to the others, a
 * follower's `sync()` / `push()` / `pull()` / `resync()` run in the leader, and a follower's
 * status is the leader's.
 */
import { ERROR_STATUS, SyncError, type SyncErrorCode } from '../shared/errors.js';
import type { Emitter } from './emitter.js';
import type { SyncClientEvents } from './events.js';
import type { ResolvedTabs } from './options.js';
import { errorCode } from './retry.js';
import type { StatusDetail, SyncStatus } from './status.js';
import {
  createTabCoordinator,
  type TabCall,
  type TabCoordinator,
  type TabMessage,
} from './tabs.js';

/** What a sync client lends its tab link. */
export interface TabHost {
  /** The client's public events. */
  events: Emitter<SyncClientEvents>;
  /** Runs a sync step in this tab (called only while it leads). */
  run(what: TabCall): Promise<unknown>;
  /** This tab became the leader: start live sync if the app asked for it. */
  lead(): void;
  /** This tab stopped leading (fallback election only): stop talking to the server. */
  follow(): void;
  /** Live mode: push soon (another tab wrote). */
  schedulePush(): void;
  /** This tab's own status with its reason and outbox (meaningful while it leads). */
  ownStatus(): StatusDetail;
}

type Pending = {
  what: TabCall;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
};

const RELAYED = ['conflict', 'resync', 'synced'] as const;

export class TabSync {
  private readonly tabs: TabCoordinator;
  /** True while re-emitting another tab's event, so it is not posted back. */
  private relaying = false;
  /** The leader's status as it last said (followers). */
  private mirrored: StatusDetail | null = null;
  private readonly calls = new Map<string, Pending>();
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly options: ResolvedTabs,
    private readonly host: TabHost,
  ) {
    this.tabs = createTabCoordinator({
      name: options.name,
      heartbeatMs: options.heartbeatMs,
      timeoutMs: options.timeoutMs,
      onLeader: () => this.led(),
      onFollower: () => host.follow(),
      onMessage: (m) => this.receive(m),
    });
    const { events } = host;
    this.offs.push(
      events.on('change', (e) => {
        if (this.relaying) return;
        this.tabs.post({ type: 'changes', collection: e.collection, ids: e.ids, source: e.source });
        if (e.source === 'local' && !this.tabs.leader) this.tabs.post({ type: 'wrote' });
      }),
      ...RELAYED.map((event) =>
        events.on(event, (payload) => {
          if (!this.relaying && this.tabs.leader) this.tabs.post({ type: 'event', event, payload });
        }),
      ),
    );
    this.tabs.post({ type: 'hello' });
  }

  get leader(): boolean {
    return this.tabs.leader;
  }

  /** Resolves to whether this tab leads, once that is known. */
  async leads(): Promise<boolean> {
    await this.tabs.decided;
    return this.tabs.leader;
  }

  /** The status the app sees: this tab's own while it leads, else the leader's (this tab's own until the leader has said). */
  status(): SyncStatus {
    return this.detail().status;
  }

  /** `status()` with its reason and the outbox as the leader last announced them. */
  detail(): StatusDetail {
    return this.tabs.leader ? this.host.ownStatus() : (this.mirrored ?? this.host.ownStatus());
  }

  /** This tab's status tracker changed: announce it where it is the one the app sees. */
  ownStatusChanged(detail: StatusDetail): void {
    if (!this.tabs.leader && this.mirrored !== null) return;
    this.host.events.emit('status', detail);
    if (this.tabs.leader) this.tabs.post({ type: 'status', status: detail.status, detail });
  }

  /**
   * Runs a sync step here if this tab leads, else in the leader (rejects with UNAVAILABLE when no
   * leader answers within `timeoutMs`, by default `callTimeoutMs`).
   */
  async call(what: TabCall, timeoutMs = this.options.callTimeoutMs): Promise<unknown> {
    if (await this.leads()) return this.host.run(what);
    return new Promise((resolve, reject) => {
      const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(
          new SyncError('UNAVAILABLE', `${what}(): no syncing tab answered within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.calls.set(id, { what, resolve, reject, timer });
      this.tabs.post({ type: 'call', id, what });
    });
  }

  /** Stops listening and gives up leadership (another tab takes over). */
  close(): void {
    for (const off of this.offs) off();
    for (const call of this.calls.values()) {
      clearTimeout(call.timer);
      call.reject(new SyncError('UNAVAILABLE', `${call.what}(): the client was closed`));
    }
    this.calls.clear();
    this.tabs.close();
  }

  private led(): void {
    const before = this.status();
    this.mirrored = null;
    const now = this.host.ownStatus();
    if (now.status !== before) this.host.events.emit('status', now);
    this.tabs.post({ type: 'status', status: now.status, detail: now });
    // Calls this tab had sent to the old leader run here now (a step run twice is harmless: pushes are exactly-once).
    for (const [id, call] of this.calls) {
      clearTimeout(call.timer);
      this.calls.delete(id);
      this.host.run(call.what).then(call.resolve, call.reject);
    }
    this.host.lead();
  }

  private relay<E extends keyof SyncClientEvents>(event: E, payload: SyncClientEvents[E]): void {
    this.relaying = true;
    try {
      this.host.events.emit(event, payload);
    } finally {
      this.relaying = false;
    }
  }

  private receive(m: TabMessage): void {
    const leader = this.tabs.leader;
    if (m.type === 'wrote') {
      if (leader) this.host.schedulePush();
    } else if (m.type === 'changes') {
      // In the leader a `local` change schedules a push, as this tab's own writes do.
      this.relay('change', { collection: m.collection, ids: m.ids, source: m.source ?? 'server' });
    } else if (m.type === 'event') {
      this.relay(m.event, m.payload as never);
    } else if (m.type === 'status') {
      if (leader) return;
      const detail: StatusDetail = m.detail ?? {
        status: m.status,
        reason: null,
        pending: 0,
        oldestPendingAgeMs: null,
      };
      const before = this.detail();
      this.mirrored = detail;
      if (detail.status !== before.status || detail.reason?.code !== before.reason?.code)
        this.host.events.emit('status', detail);
    } else if (m.type === 'hello') {
      if (leader) {
        const detail = this.host.ownStatus();
        this.tabs.post({ type: 'status', status: detail.status, detail });
      }
    } else if (m.type === 'call') {
      if (!leader) return;
      this.host.run(m.what).then(
        (value) => this.tabs.post({ type: 'result', id: m.id, value }),
        (error: unknown) => {
          const code =
            error instanceof SyncError ? error.code : (errorCode(error) ?? 'UNAVAILABLE');
          this.tabs.post({
            type: 'result',
            id: m.id,
            error: { code, message: error instanceof Error ? error.message : String(error) },
          });
        },
      );
    } else if (m.type === 'result') {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      clearTimeout(call.timer);
      if (!m.error) return call.resolve(m.value);
      const code = (m.error.code in ERROR_STATUS ? m.error.code : 'UNAVAILABLE') as SyncErrorCode;
      call.reject(new SyncError(code, m.error.message));
    }
  }
}
