/** `createTabCoordinator()`: one leader tab per name (Web Locks, BroadcastChannel fallback) and messages between the tabs of one origin. */
import type { StatusDetail, SyncStatus } from './status.js';

/** What a follower tab asks the leader to run: a sync step (`client.sync()` and friends, `syncNow()`) or its `diagnostics()`. */
export type TabCall = 'sync' | 'push' | 'pull' | 'resync' | 'syncNow' | 'diagnostics';

/**
 * A message between tabs. `wrote`: a follower wrote to the shared store (the leader pushes soon).
 * `changes`: documents of the shared store changed (`source` as in `ChangeEvent`, `server` when
 * absent), so the other tabs emit `change`. `status`: the leader's sync status (with its reason and
 * outbox in `detail`). `event`: a
 * `conflict`, `resync` or `synced` event of the leader. `hello`: a tab started (the leader answers
 * with its status). `call` / `result`: a follower's `sync()` / `push()` / `pull()` / `resync()` /
 * `syncNow()` / `diagnostics()` run by the leader.
 */
export type TabMessage =
  | { type: 'wrote' }
  | { type: 'changes'; collection: string; ids: string[]; source?: 'local' | 'server' }
  | { type: 'status'; status: SyncStatus; detail?: StatusDetail }
  | { type: 'event'; event: 'conflict' | 'resync' | 'synced'; payload: unknown }
  | { type: 'hello' }
  | { type: 'call'; id: string; what: TabCall }
  | { type: 'result'; id: string; value?: unknown; error?: { code: string; message: string } };

/** Options of `createTabCoordinator`. */
export interface TabCoordinatorOptions {
  /** Shared by the tabs that share one local store (e.g. the IndexedDB name). */
  name: string;
  /** Called once this tab becomes the leader (start syncing here: `client.start()`). */
  onLeader?: () => void;
  /** Fallback election only: called when this tab stops leading because an older tab is alive (stop syncing here). */
  onFollower?: () => void;
  /** Called for every message another tab posts. */
  onMessage?: (message: TabMessage) => void;
  /** Fallback only (no Web Locks): how often each tab says it is alive (ms). @default 1000 */
  heartbeatMs?: number;
  /** Fallback only: how long a silent leader is waited for before another tab leads (ms). @default 3000 */
  timeoutMs?: number;
}

/** A running coordinator; see `createTabCoordinator`. */
export interface TabCoordinator {
  /** True while this tab is the leader. */
  readonly leader: boolean;
  /**
   * Resolves once this tab knows whether it leads at start: `true` at once when no other tab
   * holds the lock, `false` when another does (this tab then waits its turn).
   */
  readonly decided: Promise<boolean>;
  /** Posts to the other tabs. */
  post(message: TabMessage): void;
  /** Gives up leadership (if held) and stops listening. */
  close(): void;
}

interface Locks {
  request(
    name: string,
    options: { signal?: AbortSignal; ifAvailable?: boolean },
    callback: (lock: unknown) => Promise<void>,
  ): Promise<unknown>;
}

/** True where tabs can be coordinated at all (a BroadcastChannel exists: browsers, Deno, Node ≥ 18). */
export function canCoordinateTabs(): boolean {
  return typeof (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel === 'function';
}

/**
 * Elects exactly one leader among the tabs using `name`: with Web Locks the leader holds
 * `trpc-offline-sync:leader:<name>` for the tab's life (the browser hands it over when the tab
 * closes); without them, the oldest tab that heartbeats on the BroadcastChannel leads.
 * `createSyncClient({ tabs: true })` uses it; call it yourself only to coordinate something else.
 *
 * @example
 * const tabs = createTabCoordinator({ name: 'tasks-app', onLeader: () => void client.start(),
 *   onMessage: (m) => m.type === 'wrote' && tabs.leader && void client.push() });
 */
export function createTabCoordinator(options: TabCoordinatorOptions): TabCoordinator {
  const channel = new BroadcastChannel(`trpc-offline-sync:tabs:${options.name}`);
  const abort = new AbortController();
  let leader = false;
  let closed = false;
  let decide: (leads: boolean) => void = () => undefined;
  const decided = new Promise<boolean>((resolve) => (decide = resolve));
  const becomeLeader = () => {
    decide(true);
    if (leader || closed) return;
    leader = true;
    options.onLeader?.();
  };
  channel.onmessage = (e: MessageEvent) => {
    const data = e.data as TabMessage | { type: 'alive'; id: string };
    if (data.type === 'alive') return void onAlive(data.id);
    options.onMessage?.(data);
  };

  const locks = (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
  let onAlive = (_id: string) => {};
  let timer: ReturnType<typeof setInterval> | undefined;
  if (locks) {
    const lockName = `trpc-offline-sync:leader:${options.name}`;
    const hold = () => {
      becomeLeader();
      return new Promise<void>((resolve) =>
        abort.signal.addEventListener('abort', () => resolve()),
      );
    };
    // First ask without waiting, so this tab knows at once whether another one leads.
    locks
      .request(lockName, { ifAvailable: true }, async (lock) => {
        if (lock) return hold();
        decide(false);
        if (!closed)
          void locks.request(lockName, { signal: abort.signal }, hold).catch(() => undefined); // aborted before it was granted
      })
      .catch(() => decide(false));
  } else {
    const id = `${Date.now().toString(36).padStart(10, '0')}-${Math.random().toString(36).slice(2)}`;
    const heartbeatMs = options.heartbeatMs ?? 1_000;
    const timeoutMs = options.timeoutMs ?? 3_000;
    let lastOlder = 0; // when an older tab was last heard (0: never)
    onAlive = (other) => {
      if (other >= id) return;
      lastOlder = Date.now();
      decide(false);
      if (leader) {
        leader = false; // an older tab leads
        options.onFollower?.();
      }
    };
    const started = Date.now();
    const tick = () => {
      channel.postMessage({ type: 'alive', id });
      const since = lastOlder || started;
      if (Date.now() - since > timeoutMs) becomeLeader();
    };
    tick();
    timer = setInterval(tick, heartbeatMs);
  }

  return {
    get leader() {
      return leader;
    },
    decided,
    post: (message) => {
      if (!closed) channel.postMessage(message);
    },
    close() {
      closed = true;
      leader = false;
      decide(false);
      abort.abort();
      if (timer) clearInterval(timer);
      channel.close();
    },
  };
}
