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
import {
  browserConnectivity,
  classifyFailure,
  describeError,
  isOfflineError,
  offlineError,
  StatusTracker,
  type StatusDetail,
  type SyncStatus,
} from './status.js';
import { createTokenSource } from './token-source.js';
import { withRetry } from './retry.js';
import { SyncError } from '../shared/errors.js';
import { Integrity, noteStreamChecksums } from './integrity.js';
import { repairMismatches } from './repair.js';
import { pullChanges, pushOutbox, resync, type TransferContext } from './transfer.js';
import { DiagnosticsRecorder, type SyncDiagnostics } from './diagnostics.js';
import { PoisonTracker, retryDeadLetter, type DeadLetterEdit } from './dead-letters.js';
import { OutboxGauge } from './outbox-gauge.js';
import { Pinger } from './ping.js';
import { StallWatchdog } from './watchdog.js';
import type { SyncApi, ViewRequestInput } from './api.js';
import type { Subscription } from './subscription.js';
import { ViewStreams } from './view-live.js';
import { Views } from './views.js';

/** What one `sync()` did. */
export interface SyncResult {
  /** Outbox entries the server answered (refused ones included: they are out of the outbox too). */
  pushed: number;
  /** Changes (and, after a resync, documents) applied from the server. */
  pulled: number;
}

/** The `pull` input type of a typed `api` (the app's `trpc.sync` proxy). */
/** The `pull` input type of a typed `api` (what `ViewsOf` reads the declared views from). */
export type PullInputOf<A> = A extends {
  pull: { query: (input: infer I, ...rest: never[]) => unknown };
}
  ? Exclude<I, void | undefined>
  : never;

/**
 * The views (`{ rule, params }` union) a typed `api` accepts, read from its `pull` input's `view`
 * field; any rule name and params for an `api` typed only as `SyncApi` (or a server without rules).
 */
export type ViewsOf<A> =
  PullInputOf<A> extends { view?: infer V }
    ? unknown extends V
      ? ViewRequestInput
      : Exclude<V, undefined | null>
    : ViewRequestInput;

/** The params argument of `subscribe(rule, …)` for rule `K` of the view union `V`: required when the rule's params are. */
export type ViewParamsArgs<V extends ViewRequestInput, K> = (
  string extends V['rule'] ? V : Extract<V, { rule: K }>
) extends infer E
  ? [E] extends [never]
    ? never
    : E extends { params: infer P }
      ? undefined extends P
        ? [params?: P]
        : [params: P]
      : E extends { params?: infer P }
        ? [params?: P]
        : []
  : never;

/** A sync client; see `createSyncClient`. `V` is the union of the views the server declares (see `ViewsOf`). */
export interface SyncClient<S extends SyncSchema, V extends ViewRequestInput = ViewRequestInput> {
  /** The typed collection `name`. */
  collection<K extends keyof S['collections'] & string>(name: K): CollectionOf<S, K>;
  /**
   * Subscribes to the server's view `rule` with `params` (only declared rules and their params
   * type-check): its documents are fetched at once (`ready`), pulled by `sync()` with the view's own
   * checkpoint and streamed in live mode. The same rule and params answer the same subscription;
   * subscriptions are kept in the local store across restarts until `unsubscribe()`.
   *
   * @example
   * const sub = client.subscribe('project', { projectId: 'p1' });
   * await sub.ready;
   */
  subscribe<K extends V['rule']>(
    rule: K,
    ...params: ViewParamsArgs<V, K>
  ): Subscription<K, ViewParamsArgs<V, K>[0]>;
  /** The subscriptions this client holds (those stored by earlier runs included). */
  subscriptions(): Promise<Subscription[]>;
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
  /** Listens to `change`, `conflict`, `resync`, `error`, `synced`, `progress`, `status` or `clientId`; returns a function that stops listening. */
  on<E extends keyof SyncClientEvents>(
    event: E,
    listener: (payload: SyncClientEvents[E]) => void,
  ): () => void;
  /**
   * `online`, `offline`, `syncing`, `stalled`, `error` or `upgrade-required` (see `SyncStatus` and
   * docs/client.md for each condition and bound); changes are announced by the `status` event,
   * which also carries the reason and the outbox. With `tabs`, a follower tab answers the leader
   * tab's status as it last announced it (its own — `online`, or `offline` without a network — until then).
   */
  status(): SyncStatus;
  /** `status()` with its reason (`{ code, message, since }` for `offline`, `stalled`, `error`, `upgrade-required`) and the outbox: what the `status` event carries. */
  statusDetail(): StatusDetail;
  /**
   * A snapshot of the sync for an inspector: status and reason, checkpoint, lag, outbox size and
   * oldest age, dead letters, last push and pull outcomes, live connection, tab role, recent
   * errors (see `SyncDiagnostics`). In a follower tab, the leader's (within 2 s, else this tab's
   * own view with `tab.answered: false`).
   */
  diagnostics(): Promise<SyncDiagnostics>;
  /**
   * Resolves when every write made before the call is answered by the server (accepted, or
   * refused into the dead letters) and the server's state at the time of the call is local (a pull
   * to the end after the push). Rejects at once, sending nothing, with `SyncError` `UNAVAILABLE`
   * while the platform says the device is offline, or while live mode already knows the server is
   * unreachable; `UPGRADE_REQUIRED` after the server asked for a newer schema. Network failures
   * during the call reject with `UNAVAILABLE` (the writes stay in the outbox). With `tabs`, a
   * follower asks the leader tab.
   */
  syncNow(): Promise<SyncResult>;
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
  /**
   * The dead-letter list: local changes the server refused for good, oldest first — the same list
   * as `rejected()` (a `rejected` result, a lone change refused with BAD_REQUEST /
   * PAYLOAD_TOO_LARGE, or one that failed `deadLetter.afterAttempts` times alone while the server
   * answered other requests). None of them blocks the outbox.
   */
  deadLetters(): Promise<RejectedChange[]>;
  /**
   * Sends dead letter `mutationId` again as a new write (a new mutation id, on the document's
   * current server version), with `edit.data` instead of the original data when given (validated
   * by the schema like any write; for a dead delete, the document to put), and takes it off the list.
   * Returns the new mutation id. NOT_FOUND when there is no such dead letter.
   */
  retryDeadLetter(mutationId: number, edit?: DeadLetterEdit): Promise<number>;
  /** Takes dead letter `mutationId` off the list for good (`clearRejected([mutationId])`). */
  discardDeadLetter(mutationId: number): Promise<void>;
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
export function createSyncClient<S extends SyncSchema, A extends SyncApi = SyncApi>(
  options: SyncClientOptions<S> & { api: A },
): SyncClient<S, ViewsOf<A>> {
  const resolved = resolveOptions(options as SyncClientOptions<SyncSchema>);
  const store = options.store ?? memoryLocalStore();
  const events = new Emitter<SyncClientEvents>();
  const given = options.clientId ?? null;
  // The clock's node id is read from the store (or made) in `ready`; nothing is stamped before.
  const clock = new HlcClock({ node: 'pending' });
  const integrity = options.integrity === false ? null : new Integrity(options.integrity);
  const replica = new Replica(store, options.schema, clock, events, integrity);
  const connectivity =
    options.connectivity === undefined ? browserConnectivity() : options.connectivity;
  const timers = resolved.timers;
  // The tracker reports to its own emitter: with tabs, a follower shows the leader's status instead.
  const statusEvents = new Emitter<SyncClientEvents>();
  const status = new StatusTracker(
    (detail) => statusEvents.emit('status', detail),
    connectivity,
    timers,
  );
  const diag = new DiagnosticsRecorder(timers);
  const tokens = options.tokens ?? (options.getToken ? createTokenSource(options.getToken) : null);
  const schemaVersion = (options.schema as { version?: unknown }).version;
  /** True while the platform says the device has a network (always without a signal). */
  const online = () => status.platformOnline;
  /** `once`: requests get one attempt (live pushes: their own backoff is the one retry loop; isolating a failing change). */
  let attempts: 'retry' | 'once' = 'retry';
  const ctx: TransferContext = {
    api: integrity ? noteStreamChecksums(options.api, integrity) : options.api,
    replica,
    options: resolved,
    events,
    clientId: given ?? '',
    schemaNames: options.schema.names,
    call: (fn) =>
      withRetry(
        fn,
        attempts === 'once' ? { ...resolved.retry, retries: 0 } : resolved.retry,
        undefined,
        tokens ? () => tokens.refresh() : undefined,
        () => {
          if (!online()) throw offlineError('request');
        },
      ),
    versioned: (input) => (typeof schemaVersion === 'number' ? { ...input, schemaVersion } : input),
    async reidentify(sent, recorded) {
      const previous = ctx.clientId;
      const clientId = randomClientId();
      const result = await replica.reidentify(sent, recorded, { clientId, nodeId: randomNodeId() });
      ctx.clientId = clientId;
      events.emit('clientId', { previous, clientId, ...result });
    },
  };
  /** One small request, not applied: does the server answer? (the ping, and the dead-letter check) */
  const probe = async (signal?: AbortSignal) => {
    const since = await store.getMeta('checkpoint');
    const once = { ...resolved.retry, retries: 0 };
    // One attempt; an expired token is refreshed and the probe retried once, as for any request.
    await withRetry(
      () =>
        options.api.pull.query(
          ctx.versioned({ since, collections: resolved.collections, limit: 1 }),
          signal ? { signal } : undefined,
        ),
      once,
      undefined,
      tokens ? () => tokens.refresh() : undefined,
    );
  };
  const poison = new PoisonTracker(
    resolved.deadLetter,
    () =>
      probe().then(
        () => true,
        () => false,
      ),
    () => (attempts = 'once'),
  );
  ctx.poison = (batch, error) => poison.judge(batch, error);
  const net = serial();
  const pinger = new Pinger(timers, resolved.ping, resolved.retry, probe, status, (error) =>
    diag.error('ping', error),
  );
  const watchdog = new StallWatchdog(timers, resolved.stallAfterMs, (reason) =>
    status.stalled(reason),
  );
  const gauge = new OutboxGauge(store, (stats) => {
    status.outbox(stats.count, stats.oldestAtMs);
    watchdog.outbox(stats.count, stats.oldestId);
  });

  /** Runs `task` in the network queue as one step: status, diagnostics; `channel` names its outcome. */
  const inNet = <T>(
    where: 'push' | 'pull' | 'resync',
    mode: 'retry' | 'once',
    task: () => Promise<T>,
  ): Promise<T> =>
    net(async () => {
      attempts = mode;
      status.begin();
      const startedAt = timers.now();
      const channel = where === 'push' ? 'push' : 'pull';
      try {
        const result = await task();
        status.end(channel);
        diag.step(channel, startedAt, undefined, typeof result === 'number' ? result : undefined);
        if (channel === 'push') watchdog.pushOutcome(null);
        pinger.alive();
        return result;
      } catch (error) {
        status.end(channel, error);
        if (!isOfflineError(error)) {
          diag.step(channel, startedAt, error);
          if (channel === 'push') watchdog.pushOutcome(describeError(error));
        }
        throw error;
      } finally {
        attempts = 'retry';
      }
    });

  const live = new LiveSync(ctx, net, status, tokens, {
    pushOnce: () =>
      ready.then(async () => {
        if ((await store.countOutbox()) === 0) return 0; // nothing to send: no request, no `syncing`
        status.retrying(true); // from the first attempt until one works: `syncing` holds across failed attempts (live.ts clears it)
        return inNet('push', 'once', () => pushOutbox(ctx)).catch((error: unknown) => {
          if (!isOfflineError(error)) events.emit('error', { where: 'push', error });
          throw error;
        });
      }),
    online,
    alive: () => pinger.alive(),
    suspect: () => pinger.suspect(),
    connection: (state, error) => diag.connectionState(state, error),
    streamEvent: (type) => diag.streamEvent(type),
  });

  /** Arms the ping and the watchdog while this client syncs live and the network is there. */
  let lastServer = status.server;
  const rearm = () => {
    const syncing = live.active && (!tabs || tabs.leader) && !status.upgradeRequired;
    pinger.setArmed(syncing && online());
    watchdog.setArmed(syncing && online() && status.server !== 'unreachable');
    // The server answers again after being unreachable: push and resubscribe now, not after the backoff.
    if (lastServer === 'unreachable' && status.server === 'reachable') live.wake();
    lastServer = status.server;
  };
  status.watch(rearm);
  const stopConnectivity = connectivity?.subscribe((up) => {
    status.connectivityChanged(up);
    if (up) {
      live.wake();
      views.wake();
      streams.wake();
    } else {
      live.sleep();
      streams.sleep();
    }
    rearm();
  });
  events.on('error', ({ where, error }) => diag.error(where, error));

  // Under the store's cross-tab lock, so tabs opening together agree on one client id.
  const ready = replica.exclusive(async () => {
    const [stored, storedGiven, storedNode] = [
      await store.getMeta('clientId'),
      await store.getMeta('clientIdGiven'),
      await store.getMeta('nodeId'),
    ];
    // An app-given id is used unless this store already replaced it after the server refused it (CLIENT_ID_CONFLICT).
    const clientId =
      given !== null && !(stored !== null && storedGiven === given)
        ? given
        : (stored ?? randomClientId());
    const nodeId = storedNode ?? randomNodeId();
    const writes: LocalWrite[] = [];
    if (clientId !== stored) writes.push({ type: 'setMeta', key: 'clientId', value: clientId });
    if (given !== null && storedGiven !== given)
      writes.push({ type: 'setMeta', key: 'clientIdGiven', value: given });
    if (nodeId !== storedNode) writes.push({ type: 'setMeta', key: 'nodeId', value: nodeId });
    if (writes.length > 0) await store.write(writes);
    replica.clock = clock.withNode(nodeId);
    const hlc = await store.getMeta('hlc');
    if (hlc) replica.clock.receive(hlc); // never hand out an HLC below one made before a restart
    ctx.clientId = clientId;
    return clientId;
  });
  ready.catch(() => undefined); // surfaced by every call that awaits it
  void ready.then(
    () => gauge.refresh(),
    () => undefined,
  );

  events.on('change', (e) => {
    if (e.source === 'local') live.schedulePush();
    void gauge.refresh();
  });

  const upgradeError = () =>
    new SyncError(
      'UPGRADE_REQUIRED',
      'the server needs a newer schema version: update the app (the outbox is kept)',
    );

  /**
   * Runs a network step after init, one at a time, reporting failures as `error` events. While the
   * platform says offline it rejects at once (`SyncError` UNAVAILABLE) and sends nothing.
   */
  const step = <T>(where: 'push' | 'pull' | 'resync', task: () => Promise<T>): Promise<T> =>
    ready.then(() => {
      if (status.upgradeRequired) return Promise.reject(upgradeError());
      if (!online()) return Promise.reject(offlineError(`${where}()`));
      return inNet(where, 'retry', task).catch((error: unknown) => {
        if (!isOfflineError(error)) events.emit('error', { where, error });
        throw error;
      });
    });
  // A checksum mismatch found at a live stream checkpoint: repair it as a network step (pull() and sync() repair inline).
  if (integrity)
    integrity.onMismatch = () =>
      void (live.active
        ? step('pull', () => repairMismatches(ctx)).catch(() => undefined)
        : undefined);

  const streams = new ViewStreams(ctx, net, {
    online,
    refused: (key, error) => void views.refuse(key, error).catch(() => undefined),
  });
  const views = new Views({
    ctx,
    replica,
    events,
    ready,
    online,
    step: (task) => step('pull', task),
    streams,
  });
  /** The default request, then every subscription with its own checkpoint. */
  const pullAll = async () => (await pullChanges(ctx)) + (await views.pullAll());

  /** Pushes then pulls in this tab (`sync()`, or what a follower tab asks the leader for). */
  async function syncHere(): Promise<SyncResult> {
    // One `syncing` span for both halves; each half reports its own outcome.
    status.begin();
    try {
      const pushed = await step('push', () => pushOutbox(ctx));
      const pulled = await step('pull', pullAll);
      status.end(null);
      events.emit('synced', { pushed, pulled });
      return { pushed, pulled };
    } catch (error) {
      status.end(null);
      throw error;
    }
  }

  /** `syncNow()` in the tab that syncs: the writes made before the call answered, then a pull to the end. */
  async function syncNowHere(): Promise<SyncResult> {
    await ready;
    if (status.upgradeRequired) throw upgradeError();
    if (!online()) throw offlineError('syncNow()');
    if (live.active && status.server === 'unreachable') {
      throw new SyncError(
        'UNAVAILABLE',
        `syncNow(): offline (the server cannot be reached${status.reason ? `: ${status.reason.message}` : ''}); nothing was sent`,
      );
    }
    const before = ((await store.getMeta('nextMutationId')) ?? 1) - 1; // the last mutation id handed out before the call
    let result: SyncResult;
    try {
      result = await syncHere();
    } catch (error) {
      if (
        isOfflineError(error) ||
        classifyFailure(error) !== 'unreachable' ||
        error instanceof SyncError
      )
        throw error;
      throw new SyncError(
        'UNAVAILABLE',
        `syncNow(): the server cannot be reached: ${describeError(error).message}`,
        [],
        { cause: error },
      );
    }
    const left = (await store.listOutbox({ limit: 1 }))[0];
    if (left && left.mutationId <= before) {
      throw new SyncError(
        'UNAVAILABLE',
        `syncNow(): write ${left.collection}/${left.id} (mutation ${left.mutationId}), made before the call, was not answered by the server; it stays in the outbox`,
      );
    }
    return result;
  }

  /** This tab's own diagnostics. */
  async function diagnosticsHere(): Promise<SyncDiagnostics> {
    await ready;
    await gauge.refresh();
    const [checkpoint, rejected] = [await store.getMeta('checkpoint'), await replica.rejected()];
    const { count, oldestAtMs } = gauge.stats;
    const now = timers.now();
    const detail = status.detail();
    const liveConnected =
      live.active && diag.connection === 'connected' && status.server !== 'unreachable' && online();
    return {
      at: new Date(now).toISOString(),
      status: detail.status,
      reason: detail.reason,
      clientId: ctx.clientId,
      checkpoint,
      lag: diag.lag(liveConnected),
      outbox: {
        size: count,
        oldestAt: count > 0 && oldestAtMs !== null ? new Date(oldestAtMs).toISOString() : null,
        oldestAgeMs: count > 0 && oldestAtMs !== null ? Math.max(0, now - oldestAtMs) : null,
      },
      deadLetters: rejected.length,
      lastPush: diag.lastPush,
      lastPull: diag.lastPull,
      live: {
        active: live.active,
        connection: live.active ? diag.connection : 'idle',
        connectionError: diag.connectionError,
        lastEventAt:
          diag.lastEventAtMs === null ? null : new Date(diag.lastEventAtMs).toISOString(),
        pings: pinger.sent,
      },
      reachability: { platformOnline: online(), server: status.server },
      tab: { role: tabs ? (tabs.leader ? 'leader' : 'follower') : 'only', answered: true },
      subscriptions: await views.diagnostics(),
      errors: diag.errors(),
      integrity: integrity ? { ...integrity.counters } : null,
    };
  }

  const here: Record<TabCall, () => Promise<unknown>> = {
    sync: syncHere,
    push: () => step('push', () => pushOutbox(ctx)),
    pull: () => step('pull', pullAll),
    resync: () => step('resync', () => resync(ctx)),
    syncNow: syncNowHere,
    diagnostics: diagnosticsHere,
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
      streams.start(await views.readyKeys());
      rearm();
      if ((await client.pending()) > 0) live.schedulePush();
    })().finally(() => (going = null)));

  const tabs = resolved.tabs
    ? new TabSync(resolved.tabs, {
        events,
        run: (what) => here[what](),
        lead: () => void goLive(),
        follow: () => void Promise.all([live.stop(), streams.stop()]).then(rearm),
        schedulePush: () => live.schedulePush(),
        ownStatus: () => status.detail(),
      })
    : null;
  statusEvents.on('status', (e) => (tabs ? tabs.ownStatusChanged(e) : events.emit('status', e)));
  /** A sync step: here, or in the leader tab when this one follows. */
  const run = <T>(what: TabCall): Promise<T> =>
    (tabs ? tabs.call(what) : here[what]()) as Promise<T>;

  const client: SyncClient<S, ViewsOf<A>> = {
    collection(name) {
      if (!options.schema.has(name))
        throw new Error(
          `collection "${name}" is not in the schema (${options.schema.names.join(', ')})`,
        );
      return createCollection(name, replica, events, ready) as unknown as CollectionOf<
        S,
        typeof name
      >;
    },
    subscribe: ((rule: string, params?: Record<string, unknown>) =>
      views.subscribe(rule, params)) as SyncClient<S, ViewsOf<A>>['subscribe'],
    subscriptions: () => views.list(),
    sync: () => run<SyncResult>('sync'),
    push: () => run<number>('push'),
    pull: () => run<number>('pull'),
    resync: () => run<number>('resync'),
    async syncNow() {
      if (!online()) throw offlineError('syncNow()'); // at once, even in a follower tab
      return run<SyncResult>('syncNow');
    },
    async diagnostics() {
      if (!tabs || (await tabs.leads())) return diagnosticsHere();
      try {
        const theirs = (await tabs.call('diagnostics', 2_000)) as SyncDiagnostics;
        return { ...theirs, tab: { role: 'follower', answered: true } };
      } catch {
        const mine = await diagnosticsHere();
        return { ...mine, tab: { role: 'follower', answered: false } };
      }
    },
    async start() {
      wantLive = true;
      await ready;
      // A follower tab waits: the leader syncs, and this tab goes live if it takes over.
      if (tabs && !(await tabs.leads())) return;
      await goLive();
    },
    async stop() {
      wantLive = false;
      await Promise.all([live.stop(), streams.stop()]);
      rearm();
    },
    get live() {
      return tabs ? wantLive : live.active;
    },
    get leader() {
      return tabs ? tabs.leader : true;
    },
    on: (event, listener) => events.on(event, listener),
    status: () => (tabs ? tabs.status() : status.value),
    statusDetail: () => (tabs ? tabs.detail() : status.detail()),
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
    async deadLetters() {
      await ready;
      return replica.rejected();
    },
    async retryDeadLetter(mutationId, edit) {
      await ready;
      return (await retryDeadLetter(replica, mutationId, edit)).mutationId;
    },
    async discardDeadLetter(mutationId) {
      await ready;
      await replica.clearRejected([mutationId]);
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
      views.close();
      await Promise.all([live.stop(), streams.stop()]);
      rearm();
      await store.close?.();
    },
  };

  return client;
}
