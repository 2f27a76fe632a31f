/**
 * `integrity.*`: what integrity checksums cost, each measured against the same work with
 * checksums off (`integrity: false`) in the same run, in interleaved rounds: engine pushes of 50
 * new documents, engine pulls of 500-change pages, a client pulling 5,000 changes into its local
 * store (the write that keeps the client's sums; the first sync's audit included) and local puts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  createSyncClient,
  memoryLocalStore,
  type LocalStore,
  type SyncApi,
} from '../client/index.js';
import { betterSqlite3Driver, sqliteLocalStore } from '../client/sqlite/index.js';
import { demoSchema } from '../server/demo/schema.js';
import { createSyncEngine } from '../server/engine/engine.js';
import type { SyncEngine } from '../server/engine/types.js';
import type { Actor } from '../shared/protocol.js';
import type { BenchDb } from './db.js';
import { task, timed, upserts } from './data.js';
import { throughput, type BenchResult } from './stats.js';

const BATCH = 50;
const PAGE = 500;
const CLIENT_DOCS = 5000;

function engineWith(db: BenchDb, integrity: boolean): SyncEngine {
  return createSyncEngine({
    store: db.store,
    schema: demoSchema,
    retention: { pruneIntervalMs: 0 },
    integrity,
  }) as unknown as SyncEngine;
}

/** The engine as a client's `api`, in process (no HTTP: only the checksum work differs between the sides). */
function inProcessApi(engine: SyncEngine, actor: Actor): SyncApi {
  return {
    push: { mutate: (input) => engine.push(actor, input) },
    pull: { query: (input) => engine.pull(actor, input) },
    full: { query: (input) => engine.full(actor, input) },
    stream: { subscribe: () => ({ unsubscribe() {} }) },
  };
}

/** Alternates `a` and `b` for `rounds` rounds within the budget; returns units/s of each. */
async function interleaved(
  budgetMs: number,
  rounds: number,
  maxRuns: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<[number, number]> {
  const totals = [
    { ms: 0, units: 0 },
    { ms: 0, units: 0 },
  ];
  for (let r = 0; r < rounds; r++) {
    // ABBA order: neither side always runs first (warm caches, garbage left by the other).
    const order: [number, () => Promise<number>][] =
      r % 2 === 0
        ? [
            [0, a],
            [1, b],
          ]
        : [
            [1, b],
            [0, a],
          ];
    for (const [i, fn] of order) {
      const t = await timed(budgetMs / 2 / rounds, maxRuns, fn);
      totals[i]!.ms += t.ms;
      totals[i]!.units += t.units;
    }
  }
  return [totals[0]!.units / (totals[0]!.ms / 1000), totals[1]!.units / (totals[1]!.ms / 1000)];
}

/** Push, pull and client throughput with checksums (value) vs without (baseline); ratio = with ÷ without. */
export async function benchIntegrity(db: BenchDb, budgetMs: number): Promise<BenchResult[]> {
  const on = engineWith(db, true);
  const off = engineWith(db, false);
  const actors = {
    on: { userId: 'bench', scopeId: 'integrity-on' },
    off: { userId: 'bench', scopeId: 'integrity-off' },
  };
  const pushed = { on: 0, off: 0 };
  const pushWith = (side: 'on' | 'off') => async () => {
    const first = pushed[side];
    pushed[side] += BATCH;
    await (side === 'on' ? on : off).push(actors[side], {
      clientId: 'bench-client',
      changes: upserts('t', first, BATCH, first + 1),
    });
    return BATCH;
  };
  for (let i = 0; i < 5; i++) {
    await pushWith('on')();
    await pushWith('off')();
  }
  const [pushOn, pushOff] = await interleaved(
    budgetMs * 0.35,
    8,
    60,
    pushWith('on'),
    pushWith('off'),
  );

  // Pull the scope pushed with checksums through both engines (the last page of each pass reads the sums).
  const pullWith = (engine: SyncEngine) => async () => {
    let since: string | null = null;
    let n = 0;
    for (;;) {
      const page = await engine.pull(actors.on, { since, limit: PAGE });
      n += page.changes.length;
      since = page.checkpoint;
      if (!page.hasMore) return n;
    }
  };
  await pullWith(on)();
  await pullWith(off)();
  const [pullOn, pullOff] = await interleaved(budgetMs * 0.25, 4, 20, pullWith(on), pullWith(off));

  // A client pulling CLIENT_DOCS changes into a fresh local store, with its checksums kept or not.
  const clientScope: Actor = { userId: 'bench', scopeId: 'integrity-client' };
  for (let first = 0; first < CLIENT_DOCS; first += 500)
    await on.push(clientScope, {
      clientId: 'seeder',
      changes: upserts('c', first, 500, first + 1),
    });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-integrity-'));
  let files = 0;
  const clientPull = (kind: 'memory' | 'sqlite', integrity: boolean) => async () => {
    const store: LocalStore =
      kind === 'memory'
        ? memoryLocalStore()
        : sqliteLocalStore(betterSqlite3Driver(new Database(path.join(dir, `c${files++}.db`))));
    const client = createSyncClient({
      api: inProcessApi(integrity ? on : off, clientScope),
      schema: demoSchema,
      store,
      clientId: 'bench',
      ping: false,
      pullLimit: PAGE,
      integrity: integrity ? {} : false,
    });
    const { pulled } = await client.sync();
    await client.close();
    return pulled;
  };
  const results: BenchResult[] = [
    throughput('integrity.push.batch50', pushOn, 'docs/s', pushOff),
    throughput('integrity.pull.500', pullOn, 'changes/s', pullOff),
  ];
  try {
    for (const kind of ['memory', 'sqlite'] as const) {
      await clientPull(kind, true)();
      await clientPull(kind, false)();
      const [withSums, without] = await interleaved(
        budgetMs * 0.15,
        3,
        6,
        clientPull(kind, true),
        clientPull(kind, false),
      );
      results.push(throughput(`integrity.client.pull.5k.${kind}`, withSums, 'changes/s', without));
    }
    // Local puts: they leave the server state (and so the sums) alone; measured to show it.
    const putWith = (integrity: boolean) => async () => {
      const client = createSyncClient({
        api: inProcessApi(off, clientScope),
        schema: demoSchema,
        store: memoryLocalStore(),
        clientId: 'bench',
        ping: false,
        integrity: integrity ? {} : false,
      });
      const tasks = client.collection('tasks');
      for (let i = 0; i < 1000; i++) await tasks.put(`k${i}`, task(i) as never);
      await client.close();
      return 1000;
    };
    const [putOn, putOff] = await interleaved(budgetMs * 0.1, 4, 10, putWith(true), putWith(false));
    results.push(throughput('integrity.client.put.memory', putOn, 'docs/s', putOff));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await on.close();
    await off.close();
  }
  return results;
}
