/**
 * `client.*`: the client library's local writes (one by one at 1k and 10k documents, `putMany`),
 * device → server → device sync of 10,000 documents over tRPC HTTP against the embedded server,
 * and a 100k first sync from `full` into SQLite — each against a baseline measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import Database from 'better-sqlite3';
import superjson from 'superjson';
import * as clientLib from '../client/index.js';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type SyncApi,
} from '../client/index.js';
import { jwtAuthenticator, signDevToken } from '../server/auth/jwt.js';
import { createAppRouter, type AppRouter } from '../server/demo/app-router.js';
import { demoSchema } from '../server/demo/schema.js';
import { createSyncEngine } from '../server/engine/engine.js';
import { createSyncHttpServer } from '../server/http/server.js';
import type { PullResponse } from '../shared/protocol.js';
import type { BenchDb } from './db.js';
import { seedDocs, task, upserts } from './data.js';
import { detail, mb } from './detail.js';
import { collectGarbage, RssSampler } from './memory.js';
import { measure, throughput, type BenchResult } from './stats.js';

/** A client that never talks to a server (local benchmarks). */
const offlineApi: SyncApi = {
  push: { mutate: () => Promise.reject(new Error('offline')) },
  pull: { query: () => Promise.reject(new Error('offline')) },
  full: { query: () => Promise.reject(new Error('offline')) },
  stream: { subscribe: () => ({ unsubscribe() {} }) },
};

/** The SQLite local store on a fresh temp file, when the build has one; `null` otherwise. */
function sqliteStore(dir: string, name: string): LocalStore | null {
  const lib = clientLib as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>;
  if (!lib.sqliteLocalStore || !lib.betterSqlite3Driver) return null;
  return lib.sqliteLocalStore(
    lib.betterSqlite3Driver(new Database(path.join(dir, `${name}.db`))),
  ) as LocalStore;
}

/** Raw SQLite doing the same inserts in one transaction (one row per document, as the store keeps them). */
function rawSqliteInserts(dir: string, n: number): number {
  const db = new Database(path.join(dir, `raw-${n}.db`));
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE docs (collection TEXT, id TEXT, data TEXT, PRIMARY KEY (collection, id)) WITHOUT ROWID; CREATE TABLE outbox (m INTEGER PRIMARY KEY, collection TEXT, id TEXT, entry TEXT)',
  );
  const insDoc = db.prepare('INSERT INTO docs VALUES (?, ?, ?)');
  const insOut = db.prepare('INSERT INTO outbox VALUES (?, ?, ?, ?)');
  const t = performance.now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const data = JSON.stringify(task(i));
      insDoc.run('tasks', `k${i}`, data);
      insOut.run(i + 1, 'tasks', `k${i}`, data);
    }
  })();
  const ms = performance.now() - t;
  db.close();
  return n / (ms / 1000);
}

/** A plain Map doing the same inserts (the memory store's raw floor). */
function rawMapInserts(n: number): number {
  const t = performance.now();
  const docs = new Map<string, unknown>();
  const outbox = new Map<number, unknown>();
  for (let i = 0; i < n; i++) {
    const data = JSON.parse(JSON.stringify(task(i)));
    docs.set(`tasks\0k${i}`, data);
    outbox.set(i + 1, data);
  }
  return n / ((performance.now() - t) / 1000);
}

async function putOneByOne(store: LocalStore, n: number): Promise<number> {
  const client = createSyncClient({
    api: offlineApi,
    schema: demoSchema,
    store,
    clientId: 'bench',
  });
  const tasks = client.collection('tasks');
  await tasks.put('warm', task(0) as never);
  const t = performance.now();
  for (let i = 0; i < n; i++) await tasks.put(`k${i}`, task(i) as never);
  const rate = n / ((performance.now() - t) / 1000);
  await client.close();
  return rate;
}

async function putMany(store: LocalStore, n: number): Promise<number> {
  const client = createSyncClient({
    api: offlineApi,
    schema: demoSchema,
    store,
    clientId: 'bench',
  });
  const rows = Array.from({ length: n }, (_, i) => ({ id: `k${i}`, doc: task(i) as never }));
  const t = performance.now();
  await client.collection('tasks').putMany(rows);
  const rate = n / ((performance.now() - t) / 1000);
  await client.close();
  return rate;
}

/** `client.local.*` on memory and (when built) SQLite. */
export async function benchClientLocal(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tos-bench-'));
  const out: BenchResult[] = [];
  try {
    const kinds: {
      name: string;
      open: (n: string) => LocalStore | null;
      raw: (n: number) => number;
    }[] = [
      { name: 'memory', open: () => memoryLocalStore(), raw: rawMapInserts },
      { name: 'sqlite', open: (n) => sqliteStore(dir, n), raw: (n) => rawSqliteInserts(dir, n) },
    ];
    for (const kind of kinds) {
      if (!kind.open('probe')) {
        detail(`client.local.*.${kind.name}: skipped (no ${kind.name} local store in this build)`);
        continue;
      }
      await putOneByOne(kind.open('warm')!, 1000); // JIT warm-up, not measured
      const raw1k = kind.raw(1000);
      const raw10k = kind.raw(10_000);
      const one1k = await putOneByOne(kind.open('one1k')!, 1000);
      const one10k = await putOneByOne(kind.open('one10k')!, 10_000);
      const many = await putMany(kind.open('many')!, 10_000);
      out.push(
        throughput(`client.local.put.1k.${kind.name}`, one1k, 'puts/s', raw1k),
        throughput(`client.local.put.10k.${kind.name}`, one10k, 'puts/s', raw10k),
        throughput(`client.local.put.10k_vs_1k.${kind.name}`, one10k, 'puts/s', one1k),
        throughput(`client.local.putMany.10k.${kind.name}`, many, 'docs/s', raw10k),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** An in-process embedded server (the bench's PGlite store) and tRPC clients over HTTP to it. */
async function embeddedServer(db: BenchDb) {
  const secret = 'bench-client-secret-bench-client-secret';
  const engine = createSyncEngine({
    store: db.store,
    schema: demoSchema,
    retention: { pruneIntervalMs: 0 },
  });
  const http = createSyncHttpServer({
    engine,
    authenticate: jwtAuthenticator({ secret }),
    router: createAppRouter(engine),
  });
  const { url } = await http.listen(0, '127.0.0.1');
  const api = async (tenant: string) => {
    const token = await signDevToken(secret, { sub: `u-${tenant}`, tenant, expiresIn: '1h' });
    const trpc = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${url}/trpc`,
          transformer: superjson,
          headers: { authorization: `Bearer ${token}` },
        }),
      ],
    });
    return trpc.sync as unknown as SyncApi;
  };
  return { engine, api, close: async () => (await http.close(), await engine.close()) };
}

const SYNC_DOCS = 10_000;

/** `client.sync.push.10k` / `client.sync.pull.10k` (A writes and pushes 10,000; a fresh B pulls them) vs the same calls straight on the engine. */
export async function benchClientSync(db: BenchDb): Promise<BenchResult[]> {
  const server = await embeddedServer(db);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tos-bench-sync-'));
  const out: BenchResult[] = [];
  try {
    // Baseline: the same batches of 500 pushed and pages of 500 pulled straight on the engine.
    const actor = { userId: 'bench', scopeId: 'engine-sync' };
    let t = performance.now();
    for (let first = 0; first < SYNC_DOCS; first += 500)
      await server.engine.push(actor, {
        clientId: 'raw',
        changes: upserts('e', first, 500, first + 1),
      });
    const enginePush = SYNC_DOCS / ((performance.now() - t) / 1000);
    t = performance.now();
    let since: string | null = null;
    let pulled = 0;
    for (;;) {
      const page: PullResponse = await server.engine.pull(actor, { since, limit: 500 });
      pulled += page.changes.length;
      since = page.checkpoint;
      if (!page.hasMore) break;
    }
    const enginePull = pulled / ((performance.now() - t) / 1000);
    // The same calls over tRPC HTTP without the client library: what the transport alone costs.
    const wire = await server.api('trpc-sync');
    t = performance.now();
    for (let first = 0; first < SYNC_DOCS; first += 500)
      await wire.push.mutate({ clientId: 'raw', changes: upserts('w', first, 500, first + 1) });
    const wirePush = SYNC_DOCS / ((performance.now() - t) / 1000);
    t = performance.now();
    since = null;
    for (;;) {
      const page: PullResponse = await wire.pull.query({ since, limit: 500 });
      since = page.checkpoint;
      if (!page.hasMore) break;
    }
    const wirePull = SYNC_DOCS / ((performance.now() - t) / 1000);
    detail(
      `engine straight: push ${enginePush.toFixed(0)} docs/s, pull ${enginePull.toFixed(0)} docs/s; tRPC HTTP without the client: push ${wirePush.toFixed(0)}, pull ${wirePull.toFixed(0)}`,
    );

    const stores: { name: string; open: (n: string) => LocalStore | null }[] = [
      { name: 'memory', open: () => memoryLocalStore() },
      { name: 'sqlite', open: (n) => sqliteStore(dir, n) },
    ];
    for (const kind of stores) {
      if (!kind.open('probe')) continue;
      const scope = `client-sync-${kind.name}`;
      const a = createSyncClient({
        api: await server.api(scope),
        schema: demoSchema,
        store: kind.open('a')!,
        clientId: 'a',
      });
      await a
        .collection('tasks')
        .putMany(
          Array.from({ length: SYNC_DOCS }, (_, i) => ({ id: `d${i}`, doc: task(i) as never })),
        );
      t = performance.now();
      const pushed = await a.push();
      const pushMs = performance.now() - t;
      const b = createSyncClient({
        api: await server.api(scope),
        schema: demoSchema,
        store: kind.open('b')!,
        clientId: 'b',
      });
      t = performance.now();
      const got = await b.pull();
      const pullMs = performance.now() - t;
      if (
        pushed !== SYNC_DOCS ||
        got !== SYNC_DOCS ||
        (await b.collection('tasks').count()) !== SYNC_DOCS
      )
        throw new Error(`client sync on ${kind.name}: pushed ${pushed}, pulled ${got}`);
      detail(
        `client sync on ${kind.name}: push ${(pushMs / 1000).toFixed(2)}s, pull ${(pullMs / 1000).toFixed(2)}s for ${SYNC_DOCS} documents (device → server → device ${((pushMs + pullMs) / 1000).toFixed(2)}s)`,
      );
      out.push(
        throughput(
          `client.sync.push.10k.${kind.name}`,
          SYNC_DOCS / (pushMs / 1000),
          'docs/s',
          enginePush,
        ),
        throughput(
          `client.sync.pull.10k.${kind.name}`,
          SYNC_DOCS / (pullMs / 1000),
          'docs/s',
          enginePull,
        ),
        throughput(
          `client.sync.push.10k_vs_trpc.${kind.name}`,
          SYNC_DOCS / (pushMs / 1000),
          'docs/s',
          wirePush,
        ),
        throughput(
          `client.sync.pull.10k_vs_trpc.${kind.name}`,
          SYNC_DOCS / (pullMs / 1000),
          'docs/s',
          wirePull,
        ),
        measure(`client.sync.device_to_device.10k.${kind.name}`, (pushMs + pullMs) / 1000, 's'),
      );
      await a.close();
      await b.close();
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const FULL_DOCS = 100_000;

/** `client.full.100k`: a fresh SQLite device rebuilds 100,000 documents from `full` (pages of 1000); docs/s and RSS growth of this process. */
export async function benchClientFull(db: BenchDb): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tos-bench-full-'));
  if (!sqliteStore(dir, 'probe')) {
    detail('client.full.100k: skipped (no SQLite local store in this build)');
    return [];
  }
  const scope = 'client-full';
  await seedDocs(db.store, scope, FULL_DOCS);
  const server = await embeddedServer(db);
  try {
    const client = createSyncClient({
      api: await server.api(scope),
      schema: demoSchema,
      store: sqliteStore(dir, 'full')!,
      clientId: 'f',
      fullLimit: 1000,
    });
    collectGarbage();
    const rss = new RssSampler(undefined, 10);
    const t = performance.now();
    const n = await client.resync();
    const ms = performance.now() - t;
    const growth = rss.stop();
    if (
      (await client.collection('tasks').count()) + (await client.collection('notes').count()) !==
      FULL_DOCS
    )
      throw new Error(`client.full.100k: ${n} documents applied`);
    detail(
      `client full 100k into SQLite: ${(ms / 1000).toFixed(1)}s, RSS ${mb(rss.start)} → peak ${mb(rss.peak)} MB (this process also runs the server and PGlite)`,
    );
    await client.close();
    return [
      measure('client.full.100k.sqlite', FULL_DOCS / (ms / 1000), 'docs/s'),
      measure('client.full.100k.rss_growth_mb', growth, 'MB'),
    ];
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
