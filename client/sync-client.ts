/** `createSyncClient()`: typed offline collections over a local store, synced through the app's tRPC `sync` router. */
import { HlcClock } from '../shared/hlc.js';
import type { SyncSchema } from '../shared/schema.js';
import { randomClientId, randomNodeId } from './client-id.js';
import { createCollection, type CollectionOf } from './collection.js';
import { Emitter } from './emitter.js';
import type { SyncClientEvents } from './events.js';
import { LiveSync } from './live.js';
import type { LocalStore, LocalWrite, RejectedChange } from './local-store.js';
import { memoryLocalStore } from './memory-local-store.js';
import { resolveOptions, type SyncClientOptions } from './options.js';
import { Replica } from './replica.js';
import { serial } from './serial.js';
import { TabSync } from './tab-sync.js';
import type { TabCall } from './tabs.js';
import { browserConnectivity, StatusTracker, type SyncStatus } from './status.js';
import { createTokenSource } from './token-source.js';
import { withRetry } from './retry.js';
import { SyncError } from '../shared/errors.js';
import { pullChanges, pushOutbox, resync, type TransferContext } from './transfer.js';

/** What one `sync()` did. */
export interface SyncResult {
  /** Outbox entries the server answered (refused ones included: they are out of the outbox too). */
  pushed: number;
  /** Changes (and, after a resync, documents) applied from the server. */
  pulled: number;
}

/** A sync client; see `createSyncClient`. */
export interface SyncClient<S extends SyncSchema> {
  /** The typed collection `name`. */
  collection<K extends keyof S['collections'] & string>(name: K): CollectionOf<S, K>;
  /**
   * Pushes the outbox, then pulls everything after the checkpoint (rebuilding from `full` when the
   * server asks). With `tabs`, in a follower tab this and `push` / `pull` / `resync` run in the
   * leader tab and answer what it did.
   */
  sync(): Promise<SyncResult>;
  /** Pushes the outbox only; returns how many entries the server answered. */
  push(): Promise<number>;
  /** Pulls only; returns how many changes were applied. */
  pull(): Promise<number>;
  /** Rebuilds the local store from a full export now. */
  resync(): Promise<number>;
  /**
   * Live mode: syncs once, then follows the server's stream and pushes local changes as they
   * happen. With `tabs`, only the leader tab goes live; a follower goes live if it takes over.
   */
  start(): Promise<void>;
  /** Leaves live mode (the local store and the outbox stay). */
  stop(): Promise<void>;
  /** True between `start()` and `stop()`. */
  readonly live: boolean;
  /** True when this client talks to the server: always without `tabs`; with `tabs`, while this tab is the leader. */
  readonly leader: boolean;
  /** Listens to `change`, `conflict`, `resync`, `error`, `synced`, `progress` or `status`; returns a function that stops listening. */
  on<E extends keyof SyncClientEvents>(event: E, listener: (payload: SyncClientEvents[E]) => void): () => void;
  /**
   * `online`, `offline`, `syncing`, `error` or `upgrade-required` (see `SyncStatus`); changes are
   * announced by the `status` event. With `tabs`, a follower tab answers the leader tab's status as
   * it last announced it (its own — `online`, or `offline` without a network — until then).
   */
  status(): SyncStatus;
  /** The current bearer token from `tokens` / `getToken` (refreshed before it expires), for the app's links; `null` without one. */
  token(): Promise<string | null>;
  /** Number of local changes not yet answered by the server. */
  pending(): Promise<number>;
  /**
   * Local changes the server refused (a `rejected` result, or a push holding only that change
   * refused with BAD_REQUEST / PAYLOAD_TOO_LARGE), oldest first. They are out of the outbox (the
   * documents show the server state again) and stay listed, in the local store, until cleared.
   */
  rejected(): Promise<RejectedChange[]>;
  /** Forgets rejected changes: those with these mutation ids, or all of them. */
  clearRejected(mutationIds?: number[]): Promise<void>;
  /** This device's client id (resolved once the store is read; a new one after the server refused the old, see the `clientId` event). */
  clientId(): Promise<string>;
  /** The local store (escape hatch for tools and tests). */
  readonly store: LocalStore;
  /** The client's hybrid logical clock. */
  readonly clock: HlcClock;
  /** `stop()`, then closes the local store. */
  close(): Promise<void>;
}

/**
 * Creates a sync client. Reads and writes work offline at once; `sync()` or `start()` exchange
 * them with the server.
 *
 * @example
 * const trpc = createTRPCClient<AppRouter>({ links: [splitLink({ condition: (op) => op.type === 'subscription',
 *   true: wsLink({ client: createWSClient({ url: 'ws://localhost:3000/trpc' }), transformer: superjson }),
 *   false: httpBatchLink({ url: 'http://localhost:3000/trpc', transformer: superjson }) })] });
 * const client = createSyncClient({ api: trpc.sync, schema, store: memoryLocalStore() });
 * await client.collection('tasks').put('t1', { title: 'Buy milk' });
 * await client.sync();   // or: await client.start() for live mode
 * client.on('conflict', (c) => console.warn('server kept', c.doc));
 */
export function createSyncClient<S extends SyncSchema>(options: SyncClientOptions<S>): SyncClient<S> {
  const resolved = resolveOptions(options as SyncClientOptions<SyncSchema>);
  const store = options.store ?? memoryLocalStore();
  const events = new Emitter<SyncClientEvents>();
  const given = options.clientId ?? null;
  // The clock's node id is read from the store (or made) in `ready`; nothing is stamped before.
  const clock = new HlcClock({ node: 'pending' });
  const replica = new Replica(store, options.schema, clock, events);
  const connectivity = options.connectivity === undefined ? browserConnectivity() : options.connectivity;
  // The tracker reports to its own emitter: with tabs, a follower shows the leader's status instead.
  const statusEvents = new Emitter<SyncClientEvents>();
  const status = new StatusTracker(statusEvents, connectivity);
  const tokens = options.tokens ?? (options.getToken ? createTokenSource(options.getToken) : null);
  const schemaVersion = (options.schema as { version?: unknown }).version;
  const ctx: TransferContext = {
    api: options.api,
    replica,
    options: resolved,
    events,
    clientId: given ?? '',
    schemaNames: options.schema.names,
    call: (fn) => withRetry(fn, resolved.retry, undefined, tokens ? () => tokens.refresh() : undefined),
    versioned: (input) => (typeof schemaVersion === 'number' ? { ...input, schemaVersion } : input),
    async reidentify(sent, recorded) {
      const previous = ctx.clientId;
      const clientId = randomClientId();
      const result = await replica.reidentify(sent, recorded, { clientId, nodeId: randomNodeId() });
      ctx.clientId = clientId;
      events.emit('clientId', { previous, clientId, ...result });
    },
  };
  const net = serial();
  const live = new LiveSync(ctx, net, status, tokens);
  const stopConnectivity = connectivity?.subscribe((online) => {
    status.connectivityChanged(online);
    if (online) live.wake();
  });

  // Under the store's cross-tab lock, so tabs opening together agree on one client id.
  const ready = replica.exclusive(async () => {
    const [stored, storedGiven, storedNode] = [await store.getMeta('clientId'), await store.getMeta('clientIdGiven'), await store.getMeta('nodeId')];
    // An app-given id is used unless this store already replaced it after the server refused it (CLIENT_ID_CONFLICT).
    const clientId = given !== null && !(stored !== null && storedGiven === given) ? given : (stored ?? randomClientId());
    const nodeId = storedNode ?? randomNodeId();
    const writes: LocalWrite[] = [];
    if (clientId !== stored) writes.push({ type: 'setMeta', key: 'clientId', value: clientId });
    if (given !== null && storedGiven !== given) writes.push({ type: 'setMeta', key: 'clientIdGiven', value: given });
    if (nodeId !== storedNode) writes.push({ type: 'setMeta', key: 'nodeId', value: nodeId });
    if (writes.length > 0) await store.write(writes);
    replica.clock = clock.withNode(nodeId);
    const hlc = await store.getMeta('hlc');
    if (hlc) replica.clock.receive(hlc); // never hand out an HLC below one made before a restart
    ctx.clientId = clientId;
    return clientId;
  });
  ready.catch(() => undefined); // surfaced by every call that awaits it

  events.on('change', (e) => {
    if (e.source === 'local') live.schedulePush();
  });

  /** Runs a network step after init, one at a time, reporting failures as `error` events. */
  const step = <T>(where: 'push' | 'pull' | 'resync', task: () => Promise<T>): Promise<T> =>
    ready.then(() => {
      if (status.upgradeRequired) return Promise.reject(new SyncError('UPGRADE_REQUIRED', 'the server needs a newer schema version: update the app (the outbox is kept)'));
      return net(async () => {
        status.begin();
        try {
          const result = await task();
          status.end();
          return result;
        } catch (error) {
          status.end(error);
          throw error;
        }
      }).catch((error: unknown) => {
        events.emit('error', { where, error });
        throw error;
      });
    });

  /** Pushes then pulls in this tab (`sync()`, or what a follower tab asks the leader for). */
  async function syncHere(): Promise<SyncResult> {
    // One `syncing` span for both halves.
    status.begin();
    try {
      const pushed = await step('push', () => pushOutbox(ctx));
      const pulled = await step('pull', () => pullChanges(ctx));
      status.end();
      events.emit('synced', { pushed, pulled });
      return { pushed, pulled };
    } catch (error) {
      status.end(error);
      throw error;
    }
  }
  const here: Record<TabCall, () => Promise<unknown>> = {
    sync: syncHere,
    push: () => step('push', () => pushOutbox(ctx)),
    pull: () => step('pull', () => pullChanges(ctx)),
    resync: () => step('resync', () => resync(ctx)),
  };

  /** True from `start()` to `stop()`; with tabs, live mode runs only while this tab leads. */
  let wantLive = false;
  let going: Promise<void> | null = null;
  /** Syncs once, then goes live; one at a time (`start()` and taking the lead may both ask). */
  const goLive = (): Promise<void> =>
    (going ??= (async () => {
      await ready;
      if (live.active || !wantLive) return;
      await syncHere().catch(() => undefined); // offline start is fine: reported as `error`, retried by live pushes
      if (!wantLive || (tabs && !tabs.leader)) return;
      await live.start();
      if ((await client.pending()) > 0) live.schedulePush();
    })().finally(() => (going = null)));

  const tabs = resolved.tabs
    ? new TabSync(resolved.tabs, {
        events,
        run: (what) => here[what](),
        lead: () => void goLive(),
        follow: () => void live.stop(),
        schedulePush: () => live.schedulePush(),
        ownStatus: () => status.value,
      })
    : null;
  statusEvents.on('status', (e) => (tabs ? tabs.ownStatusChanged(e.status) : events.emit('status', e)));
  /** A sync step: here, or in the leader tab when this one follows. */
  const run = <T>(what: TabCall): Promise<T> => (tabs ? tabs.call(what) : here[what]()) as Promise<T>;

  const client: SyncClient<S> = {
    collection(name) {
      if (!options.schema.has(name)) throw new Error(`collection "${name}" is not in the schema (${options.schema.names.join(', ')})`);
      return createCollection(name, replica, events, ready) as unknown as CollectionOf<S, typeof name>;
    },
    sync: () => run<SyncResult>('sync'),
    push: () => run<number>('push'),
    pull: () => run<number>('pull'),
    resync: () => run<number>('resync'),
    async start() {
      wantLive = true;
      await ready;
      // A follower tab waits: the leader syncs, and this tab goes live if it takes over.
      if (tabs && !(await tabs.leads())) return;
      await goLive();
    },
    stop() {
      wantLive = false;
      return live.stop();
    },
    get live() {
      return tabs ? wantLive : live.active;
    },
    get leader() {
      return tabs ? tabs.leader : true;
    },
    on: (event, listener) => events.on(event, listener),
    status: () => (tabs ? tabs.status() : status.value),
    token: () => (tokens ? tokens.get() : Promise.resolve(null)),
    async pending() {
      await ready;
      return store.countOutbox();
    },
    async rejected() {
      await ready;
      return replica.rejected();
    },
    async clearRejected(mutationIds) {
      await ready;
      await replica.clearRejected(mutationIds);
    },
    clientId: () => ready.then(() => ctx.clientId),
    store,
    get clock() {
      return replica.clock;
    },
    async close() {
      stopConnectivity?.();
      wantLive = false;
      tabs?.close();
      await live.stop();
      await store.close?.();
    },
  };

  return client;
}
