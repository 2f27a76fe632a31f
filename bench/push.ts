/**
 * `push.batch50`: docs/s of 50-change pushes through `engine.push` vs raw batched INSERTs of the
 * same rows the push stores (50 document rows, 50 oplog rows, one ledger row, into copies of the
 * store's tables with the same indexes) in one transaction: the issue's "raw store doing the same
 * work". `push.batch50.vs_docs_only` compares with a bare 50-row INSERT into one table as well.
 */
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
export async function benchPush(
  db: BenchDb,
  prefix: string,
  budgetMs: number,
): Promise<{ results: BenchResult[]; scope: string; docs: number }> {
  const engine = benchEngine(db.store);
  const actor = { userId: 'bench', scopeId: 'push' };
  const table = await createRawDocsTable(db);
  const values = Array.from(
    { length: BATCH },
    (_, k) =>
      `($1, 'tasks', $${k * 4 + 2}, $${k * 4 + 3}::jsonb, $${k * 4 + 4}, $${k * 4 + 5}::bigint)`,
  ).join(', ');
  const insert = `INSERT INTO ${table} (scope, collection, id, data, version, seq) VALUES ${values}`;
  // Copies of the store's own tables, indexes included: the same rows, written with plain SQL.
  const copy = async (name: string) => {
    const target = db.table(`bench_same_${name}`);
    await db.raw.query(
      `CREATE TABLE IF NOT EXISTS ${target} (LIKE ${db.table(`sync_${name}`)} INCLUDING ALL)`,
    );
    return target;
  };
  const [sameDocs, sameOplog, sameLedger] = [
    await copy('docs'),
    await copy('oplog'),
    await copy('mutation_batches'),
  ];
  const rows = (width: number, offset = 0) =>
    Array.from(
      { length: BATCH },
      (_, k) =>
        `(${Array.from({ length: width }, (_, c) => `$${offset + k * width + c + 1}`).join(', ')})`,
    ).join(', ');
  const insertDocs = `INSERT INTO ${sameDocs} (scope, collection, id, data, fields, version, seq, deleted, actor) VALUES ${rows(9)}`;
  const insertOplog = `INSERT INTO ${sameOplog} (scope, seq, idx, collection, id, op, data, version, actor, client_id, mutation_id, at) VALUES ${rows(12)}`;
  const insertLedger = `INSERT INTO ${sameLedger} (scope, client_id, first_mid, last_mid, results, at) VALUES ($1, $2, $3, $4, $5, $6)`;
  let sameBatches = 0;
  const insertSameRows = async () => {
    const batch = sameBatches++;
    const first = batch * BATCH;
    const at = new Date().toISOString();
    const version = '20260502T120000.000Z-0000-bench';
    const fields = JSON.stringify({
      title: version,
      done: version,
      priority: version,
      tags: version,
      _sync_cleared: version,
      _sync_deleted: version,
    });
    const docParams: unknown[] = [];
    const oplogParams: unknown[] = [];
    const results: Record<string, unknown> = {};
    for (let k = 0; k < BATCH; k++) {
      const id = `t-${String(first + k).padStart(7, '0')}`;
      const data = JSON.stringify(task(first + k));
      docParams.push('push', 'tasks', id, data, fields, version, String(batch + 1), false, 'bench');
      oplogParams.push(
        'push',
        String(batch + 1),
        k,
        'tasks',
        id,
        'upsert',
        data,
        version,
        'bench',
        'bench-client',
        String(first + k + 1),
        at,
      );
      results[String(first + k + 1)] = { status: 'accepted', version };
    }
    await db.raw.transaction(async (q) => {
      await q(insertDocs, docParams);
      await q(insertOplog, oplogParams);
      await q(insertLedger, [
        'push',
        'bench-client',
        String(first + 1),
        String(first + BATCH),
        JSON.stringify(results),
        at,
      ]);
    });
    return BATCH;
  };
  let engineBatches = 0;
  let rawBatches = 0;
  const pushOne = async () => {
    const first = engineBatches++ * BATCH;
    await engine.push(actor, {
      clientId: 'bench-client',
      changes: upserts('t', first, BATCH, first + 1),
    });
    return BATCH;
  };
  const insertOne = async () => {
    const first = rawBatches++ * BATCH;
    const params: unknown[] = ['push'];
    for (let k = 0; k < BATCH; k++) {
      params.push(
        `t-${String(first + k).padStart(7, '0')}`,
        JSON.stringify(task(first + k)),
        '20260502T120000.000Z-0000-bench',
        String(rawBatches),
      );
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
    await insertSameRows();
  }
  const rounds = 8;
  let engineMs = 0;
  let engineDocs = 0;
  let rawMs = 0;
  let rawDocs = 0;
  let sameMs = 0;
  let sameDocsCount = 0;
  for (let r = 0; r < rounds; r++) {
    const e = await timed(budgetMs / 3 / rounds, 100, pushOne);
    engineMs += e.ms;
    engineDocs += e.units;
    const s = await timed(budgetMs / 3 / rounds, 100, insertSameRows);
    sameMs += s.ms;
    sameDocsCount += s.units;
    const w = await timed(budgetMs / 3 / rounds, 100, insertOne);
    rawMs += w.ms;
    rawDocs += w.units;
  }
  await engine.close();
  const ours = engineDocs / (engineMs / 1000);
  const same = sameDocsCount / (sameMs / 1000);
  const raw = rawDocs / (rawMs / 1000);
  return {
    results: [
      throughput(`${prefix}push.batch50`, ours, 'docs/s', same),
      throughput(`${prefix}push.batch50.vs_docs_only`, ours, 'docs/s', raw),
    ],
    scope: actor.scopeId,
    docs: engineBatches * BATCH,
  };
}
