/** `push.batch50`: docs/s of 50-change pushes through `engine.push` vs a raw 50-row INSERT in a transaction. */
import type { BenchDb } from './db.js';
import { benchEngine, task, timed, upserts } from './data.js';
import { throughput, type BenchResult } from './stats.js';

const BATCH = 50;

/** Columns of the raw comparison table: the document, its version and seq, data as jsonb. */
export async function createRawDocsTable(db: BenchDb): Promise<string> {
  const table = db.table('bench_raw_docs');
  await db.raw.query(`CREATE TABLE IF NOT EXISTS ${table} (
    scope text NOT NULL, collection text NOT NULL, id text NOT NULL, data jsonb NOT NULL,
    version text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (scope, collection, id))`);
  return table;
}

/**
 * Pushes batches of 50 new documents (engine) and inserts the same rows raw, in interleaved rounds
 * so both see the same table sizes and machine state. Returns the result and the scope pushed to.
 */
export async function benchPush(db: BenchDb, prefix: string, budgetMs: number): Promise<{ results: BenchResult[]; scope: string; docs: number }> {
  const engine = benchEngine(db.store);
  const actor = { userId: 'bench', scopeId: 'push' };
  const table = await createRawDocsTable(db);
  const values = Array.from({ length: BATCH }, (_, k) => `($1, 'tasks', $${k * 4 + 2}, $${k * 4 + 3}::jsonb, $${k * 4 + 4}, $${k * 4 + 5}::bigint)`).join(', ');
  const insert = `INSERT INTO ${table} (scope, collection, id, data, version, seq) VALUES ${values}`;
  let engineBatches = 0;
  let rawBatches = 0;
  const pushOne = async () => {
    const first = engineBatches++ * BATCH;
    await engine.push(actor, { clientId: 'bench-client', changes: upserts('t', first, BATCH, first + 1) });
    return BATCH;
  };
  const insertOne = async () => {
    const first = rawBatches++ * BATCH;
    const params: unknown[] = ['push'];
    for (let k = 0; k < BATCH; k++) {
      params.push(`t-${String(first + k).padStart(7, '0')}`, JSON.stringify(task(first + k)), '20260502T120000.000Z-0000-bench', String(rawBatches));
    }
    await db.raw.transaction(async (q) => {
      await q(insert, params);
    });
    return BATCH;
  };
  // Warm-up (plans, caches, JIT), not measured.
  for (let i = 0; i < 5; i++) {
    await pushOne();
    await insertOne();
  }
  const rounds = 8;
  let engineMs = 0;
  let engineDocs = 0;
  let rawMs = 0;
  let rawDocs = 0;
  for (let r = 0; r < rounds; r++) {
    const e = await timed(budgetMs / 2 / rounds, 100, pushOne);
    engineMs += e.ms;
    engineDocs += e.units;
    const w = await timed(budgetMs / 2 / rounds, 100, insertOne);
    rawMs += w.ms;
    rawDocs += w.units;
  }
  await engine.close();
  const ours = engineDocs / (engineMs / 1000);
  const raw = rawDocs / (rawMs / 1000);
  return { results: [throughput(`${prefix}push.batch50`, ours, 'docs/s', raw)], scope: actor.scopeId, docs: engineBatches * BATCH };
}
