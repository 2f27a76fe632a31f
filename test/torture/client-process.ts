/**
 * One torture client process: a sync client on its own SQLite file, talking to the servers through
 * its fault proxies, writing random puts, patches, deletes and putManys to shared documents, going
 * offline and online at random, and recording its history. Started (and kill -9'd) by clients.ts;
 * its configuration comes in TORTURE_CLIENT (JSON), its orders over IPC (`drain`, `final`).
 */
import Database from 'better-sqlite3';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  TRPCClientError,
  wsLink,
  type TRPCLink,
} from '@trpc/client';
import { observable } from '@trpc/server/observable';
import superjson from 'superjson';
import WebSocket from 'ws';
import { createSyncClient, type LocalDoc, type SyncApi } from '../../client/index.js';
import { betterSqlite3Driver, sqliteLocalStore } from '../../client/sqlite/index.js';
import type { AppRouter } from '../../server/demo/app-router.js';
import { HistoryWriter, readHistory, type SeenDoc } from './history.js';
import { recordingStore } from './recorder.js';
import { Rng } from './rng.js';
import { schema as tortureSchema, TEAMS } from './schema.js';

/** What the harness tells a client process. */
export interface ClientConfig {
  index: number;
  seed: number;
  dbPath: string;
  historyPath: string;
  /** The proxy port in front of each server, for this client. */
  ports: number[];
  token: string;
  /** Changes this client writes in all its lives together. */
  writes: number;
  /** Mean pause between two writes (ms). */
  intervalMs: number;
  /** Shared document ids: `t0` … `t<docs-1>` (tasks), `j0` … (jobs). */
  docs: number;
  /** Users of the run (`u0` … `u<users-1>`): the assignees of jobs. */
  users: number;
}

/** Messages a client process sends to the harness. */
export type ClientReport =
  | { type: 'ready' }
  | { type: 'wrote'; changes: number }
  | { type: 'drained'; pending: number; ms: number }
  | { type: 'final'; pending: number };

const config = JSON.parse(process.env.TORTURE_CLIENT ?? '{}') as ClientConfig;
const send = (report: ClientReport) => process.send?.(report);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const past = readHistory(config.historyPath);
const life = past.filter((e) => e.t === 'start').length;
let written = past.reduce((n, e) => n + (e.t === 'committed' ? e.ms.length : 0), 0);
const rng = new Rng(config.seed * 7919 + config.index * 104729 + life * 1299709);
const history = new HistoryWriter(config.historyPath);

let current = rng.int(0, config.ports.length - 1);
let offline = false;
const base = () => `127.0.0.1:${config.ports[current]}`;

/** Fails every call while the client is offline (subscriptions are stopped with live mode). */
const offlineLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) => {
      if (offline && op.type !== 'subscription') {
        observer.error(TRPCClientError.from(new Error('fetch failed: offline (torture client)')));
        return;
      }
      const sub = next(op).subscribe(observer);
      return () => sub.unsubscribe();
    });

/** The app's fetch: to the current server's proxy, bounded in time (a blackholed request must end). */
const fetchCurrent = (input: RequestInfo | URL | string, init?: RequestInit) => {
  // A plain timer rather than AbortSignal.timeout()/any(): it holds its controller strongly, and it
  // stays armed while the body is read (a stall can come after the headers).
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error('request timed out (torture client, 10 s)')),
    10_000,
  );
  timer.unref();
  const outer = init?.signal;
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  return fetch(String(input).replace('torture.invalid', base()), {
    ...init,
    signal: controller.signal,
  });
};

const wsClient = createWSClient({
  url: () => `ws://${base()}/trpc`,
  WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  connectionParams: async () => ({ token: config.token }),
  retryDelayMs: () => 200 + rng.int(0, 300),
  keepAlive: { enabled: true, intervalMs: 2000, pongTimeoutMs: 2000 },
});
const trpc = createTRPCClient<AppRouter>({
  links: [
    offlineLink,
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: wsLink({ client: wsClient, transformer: superjson }),
      false: httpBatchLink({
        url: 'http://torture.invalid/trpc',
        transformer: superjson,
        fetch: fetchCurrent as never,
        headers: { authorization: `Bearer ${config.token}` },
      }),
    }),
  ],
});

const db = new Database(config.dbPath);
const inner = sqliteLocalStore(betterSqlite3Driver(db));
let clientId = (await inner.getMeta('clientId')) ?? '';
const client = createSyncClient({
  // Typed as any rules: the torture server's rules (test/torture/schema.ts), not the demo router's.
  api: trpc.sync as unknown as SyncApi,
  schema: tortureSchema,
  store: recordingStore(inner, history, () => clientId),
  connectivity: null,
  retry: { retries: 4, baseMs: 100, maxMs: 2000 },
  // Every view pull asks for the view's checksum, so the run checks views as often as it can.
  integrity: { viewCheckIntervalMs: 0 },
});
clientId = await client.clientId();
client.on('clientId', (e) => (clientId = e.clientId));
let errorsLogged = 0;
// Integrity mismatches (nothing edits a store behind a client's back here: each one is a finding).
client.on('integrity', (e) =>
  history.add({
    t: 'integrity',
    at: Date.now(),
    collection: e.collection,
    view: e.view ?? null,
    expected: e.expected,
    actual: e.actual,
    checkpoint: e.checkpoint,
    repaired: e.repaired,
  }),
);
client.on('error', (e) => {
  if (errorsLogged++ < 200)
    history.add({
      t: 'error',
      at: Date.now(),
      where: e.where,
      message: String((e.error as Error)?.message ?? e.error).slice(0, 200),
    });
  if (rng.chance(0.5)) current = rng.int(0, config.ports.length - 1); // fail over, as a load balancer would
});
history.add({
  t: 'start',
  at: Date.now(),
  pid: process.pid,
  clientId,
  outbox: (await inner.listOutbox()).map((e) => e.mutationId),
  rejected: ((await inner.getMeta('rejected')) ?? []).map((r) => r.change.mutationId),
  checkpoint: await inner.getMeta('checkpoint'),
});
// A start that has not finished after 30 s says what the process is waiting on.
const watchdog = setTimeout(() => {
  const handles = (process as unknown as { _getActiveHandles(): object[] })
    ._getActiveHandles()
    .map((h) => h.constructor.name);
  history.add({
    t: 'error',
    at: Date.now(),
    where: 'start',
    message: `start() still running after 30 s; status=${client.status()} handles=${handles.join(',')}`,
  });
}, 30_000);
await client.start();
clearTimeout(watchdog);
send({ type: 'ready' });

const tasks = client.collection('tasks');
let n = 0;
/** A value no other write makes: where a server field came from is always known. */
const tag = () => `c${config.index}.${life}.${++n}`;
const uniq = () => config.index * 10_000_000 + life * 100_000 + n;
const docId = () => `t${rng.int(0, config.docs - 1)}`;

const jobs = client.collection('jobs');
const user = () => `u${rng.int(0, config.users - 1)}`;
const team = () => TEAMS[rng.int(0, TEAMS.length - 1)]!;
/** Jobs: half as many ids as tasks. */
const jobId = () => `j${rng.int(0, Math.max(1, Math.floor(config.docs / 2)) - 1)}`;

/** One random write to a job: a new job, a reassignment, a team move, a priority change or a delete. */
async function writeJob(): Promise<number> {
  const id = jobId();
  const kind = rng.next();
  if (kind < 0.1) {
    await jobs.delete(id);
    return 1;
  }
  if (kind < 0.35 || (await jobs.get(id)) === undefined) {
    await jobs.put(id, { title: tag(), assignee: user(), team: team(), priority: uniq() });
    return 1;
  }
  // A move: the job leaves the views of its old assignee or team and enters the new one's.
  if (kind < 0.6) await jobs.patch(id, { assignee: user() });
  else if (kind < 0.8) await jobs.patch(id, { team: team() });
  else await jobs.patch(id, { priority: (tag(), uniq()) });
  return 1;
}

/** Subscribes to a random view or leaves one (at random, while writing); recorded in the history. */
async function changeViews(): Promise<void> {
  const held = await client.subscriptions();
  if (held.length > 0 && rng.chance(0.4)) {
    const sub = held[rng.int(0, held.length - 1)]!;
    history.add({ t: 'view', at: Date.now(), op: 'unsubscribe', key: sub.key });
    await sub.unsubscribe().catch(() => undefined);
    return;
  }
  const sub = rng.chance(0.4)
    ? client.subscribe('mine')
    : client.subscribe('team', { team: team() });
  history.add({ t: 'view', at: Date.now(), op: 'subscribe', key: sub.key });
}

/** One random write; answers how many changes it made (0 when it could not). */
async function writeOnce(): Promise<number> {
  if (rng.chance(0.3)) {
    try {
      return await writeJob();
    } catch {
      return 0;
    }
  }
  const kind = rng.next();
  const id = docId();
  try {
    if (kind < 0.35) {
      await tasks.put(id, { title: tag(), priority: uniq(), done: rng.chance(0.5) });
      return 1;
    }
    if (kind < 0.7) {
      if ((await tasks.get(id)) === undefined) {
        await tasks.put(id, { title: tag(), priority: uniq() });
        return 1;
      }
      const field = rng.int(0, 2);
      await tasks.patch(
        id,
        field === 0
          ? { title: tag() }
          : field === 1
            ? { priority: (tag(), uniq()) }
            : { tags: [tag()] },
      );
      return 1;
    }
    if (kind < 0.82) {
      await tasks.delete(id);
      return 1;
    }
    const ids = [...new Set(Array.from({ length: rng.int(2, 4) }, docId))];
    await tasks.putMany(ids.map((i) => ({ id: i, doc: { title: tag(), priority: uniq() } })));
    return ids.length;
  } catch {
    return 0; // e.g. a patch of a document a pulled delete removed in between
  }
}

/** Live mode is left and entered in order, in the background: a start that syncs first never holds up the writes. */
let liveChain: Promise<void> = Promise.resolve();

function goOffline(): void {
  offline = true;
  history.add({ t: 'offline', at: Date.now() });
  liveChain = liveChain.then(() => client.stop()).catch(() => undefined);
}

function goOnline(): Promise<void> {
  offline = false;
  history.add({ t: 'online', at: Date.now() });
  liveChain = liveChain.then(() => client.start()).catch(() => undefined);
  return liveChain;
}

// Every client starts with one view (later ones come and go at random).
if (life === 0) await changeViews().catch(() => undefined);

let stopWriting = false;
let offlineUntil = 0;
const writing = (async () => {
  while (!stopWriting) {
    await sleep(rng.int(0, 2 * config.intervalMs));
    if (stopWriting) break;
    if (offline && Date.now() >= offlineUntil) void goOnline();
    else if (!offline && rng.chance(0.06)) {
      offlineUntil = Date.now() + rng.int(500, 4000);
      goOffline();
    }
    if (rng.chance(0.02)) current = rng.int(0, config.ports.length - 1);
    if (rng.chance(0.08)) await changeViews().catch(() => undefined);
    if (written < config.writes) {
      written += await writeOnce();
      if (written >= config.writes) send({ type: 'wrote', changes: written });
    }
  }
})();
if (written >= config.writes) send({ type: 'wrote', changes: written });

/** Syncs until the outbox is empty (or the deadline passes); answers what is left. */
async function drain(deadline: number): Promise<number> {
  for (;;) {
    try {
      await client.sync();
      if ((await client.pending()) === 0) return 0;
    } catch {
      current = rng.int(0, config.ports.length - 1);
    }
    if (Date.now() > deadline) return client.pending();
    await sleep(200);
  }
}

/** Every document of `collection` as stored (tombstones included), page by page. */
async function dump(collection: string): Promise<SeenDoc[]> {
  const out: SeenDoc[] = [];
  let after: string | undefined;
  for (;;) {
    const page: LocalDoc[] = await inner.listDocs(collection, { after, limit: 500 });
    for (const d of page)
      if (d.data !== null) out.push({ c: d.collection, id: d.id, v: d.version, d: d.data });
    if (page.length < 500) return out;
    after = page.at(-1)!.id;
  }
}

process.on('message', (msg: { type: 'drain' | 'final'; ms: number }) => {
  void (async () => {
    if (msg.type === 'drain') {
      stopWriting = true;
      await writing;
      if (offline) await goOnline();
      else await liveChain;
      const begun = Date.now();
      const pending = await drain(begun + msg.ms);
      send({ type: 'drained', pending, ms: Date.now() - begun });
    } else {
      const begun = Date.now();
      await liveChain;
      await client.stop();
      const pending = await drain(begun + msg.ms);
      // Every subscription's first sync is local (a rebuild cut short by a fault finishes here).
      const views = await client.subscriptions();
      await Promise.all(
        views.map((v) => Promise.race([v.ready, sleep(msg.ms)]).catch(() => undefined)),
      );
      const docs = [...(await dump('tasks')), ...(await dump('notes')), ...(await dump('jobs'))];
      history.add({
        t: 'final',
        at: Date.now(),
        pending,
        checkpoint: await inner.getMeta('checkpoint'),
        docs,
        drainedMs: Date.now() - begun,
        views: views.map((v) => ({
          key: v.key,
          rule: v.rule,
          params: v.params ?? null,
          status: v.status,
        })),
      });
      send({ type: 'final', pending });
    }
  })();
});
