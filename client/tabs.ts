/** `createTabCoordinator()`: one leader tab per name (Web Locks, BroadcastChannel fallback) and messages between the tabs of one origin. */

/** A message between tabs: a follower wrote to the shared store, or the leader applied server changes. */
export type TabMessage = { type: 'wrote' } | { type: 'changes'; collection: string; ids: string[] };

/** Options of `createTabCoordinator`. */
export interface TabCoordinatorOptions {
  /** Shared by the tabs that share one local store (e.g. the IndexedDB name). */
  name: string;
  /** Called once this tab becomes the leader (start syncing here: `client.start()`). */
  onLeader?: () => void;
  /** Called for every message another tab posts. */
  onMessage?: (message: TabMessage) => void;
  /** Fallback only (no Web Locks): how often the leader says it is alive, and how long followers wait (ms). @default { heartbeatMs: 1000, timeoutMs: 3000 } */
  heartbeatMs?: number;
  timeoutMs?: number;
}

/** A running coordinator; see `createTabCoordinator`. */
export interface TabCoordinator {
  /** True while this tab is the leader. */
  readonly leader: boolean;
  /** Posts to the other tabs. */
  post(message: TabMessage): void;
  /** Gives up leadership (if held) and stops listening. */
  close(): void;
}

interface Locks {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

/**
 * Elects exactly one leader among the tabs using `name`: with Web Locks the leader holds
 * `trpc-offline-sync:leader:<name>` for the tab's life (the browser hands it over when the tab
 * closes); without them, the lowest-id tab that heartbeats on the BroadcastChannel leads.
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
  const becomeLeader = () => {
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
    locks
      .request(`trpc-offline-sync:leader:${options.name}`, { signal: abort.signal }, () => {
        becomeLeader();
        return new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve()));
      })
      .catch(() => undefined); // aborted before it was granted
  } else {
    const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const heartbeatMs = options.heartbeatMs ?? 1_000;
    const timeoutMs = options.timeoutMs ?? 3_000;
    let lastOther = 0;
    let otherId = '';
    onAlive = (other) => {
      if (other < id || !otherId || Date.now() - lastOther > timeoutMs) {
        lastOther = Date.now();
        otherId = other;
      }
      if (leader && other < id) leader = false; // an older tab leads
    };
    const tick = () => {
      channel.postMessage({ type: 'alive', id });
      if (Date.now() - lastOther > timeoutMs || otherId > id) becomeLeader();
    };
    lastOther = Date.now();
    timer = setInterval(tick, heartbeatMs);
  }

  return {
    get leader() {
      return leader;
    },
    post: (message) => channel.postMessage(message),
    close() {
      closed = true;
      leader = false;
      abort.abort();
      if (timer) clearInterval(timer);
      channel.close();
    },
  };
}
