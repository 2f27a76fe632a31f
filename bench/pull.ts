/** `pull.500`: changes/s of `engine.pull` pages of 500 vs a raw 500-row oplog SELECT plus `JSON.stringify`. */
import type { BenchDb } from './db.js';
import { benchEngine, timed } from './data.js';
import { throughput, type BenchResult } from './stats.js';

const PAGE = 500;

/**
 * Reads the whole history of `scope` (written by the push benchmark) page by page, from the
 * beginning, again and again: through `engine.pull` and as a raw keyset SELECT on the oplog.
 */
export async function benchPull(
  db: BenchDb,
  prefix: string,
  scope: string,
  budgetMs: number,
): Promise<BenchResult[]> {
  const engine = benchEngine(db.store);
  const actor = { userId: 'bench', scopeId: scope };
  const select = `SELECT seq, idx, collection, id, op, data, version FROM ${db.table('sync_oplog')}
    WHERE scope = $1 AND (seq, idx) > ($2::bigint, $3::integer) ORDER BY seq, idx LIMIT ${PAGE}`;

  const enginePass = async () => {
    let since: string | null = null;
    let n = 0;
    for (;;) {
      const page = await engine.pull(actor, { since, limit: PAGE });
      n += page.changes.length;
      since = page.checkpoint;
      if (!page.hasMore) return n;
    }
  };
  const rawPass = async () => {
    let seq = 0;
    let idx = -1;
    let n = 0;
    for (;;) {
      const rows = await db.raw.query<{ seq: number | string; idx: number }>(select, [
        scope,
        String(seq),
        idx,
      ]);
      JSON.stringify(rows);
      n += rows.length;
      if (rows.length < PAGE) return n;
      const last = rows[rows.length - 1]!;
      seq = Number(last.seq);
      idx = last.idx;
    }
  };
  // Fresh statistics for both sides (a just-filled oplog otherwise gets a bitmap scan + sort of every later row).
  await db.raw.query(`ANALYZE ${db.table('sync_oplog')}`);
  await enginePass();
  await rawPass();
  let engineMs = 0;
  let engineChanges = 0;
  let rawMs = 0;
  let rawChanges = 0;
  for (let r = 0; r < 4; r++) {
    const e = await timed(budgetMs / 8, 50, enginePass);
    engineMs += e.ms;
    engineChanges += e.units;
    const w = await timed(budgetMs / 8, 50, rawPass);
    rawMs += w.ms;
    rawChanges += w.units;
  }
  await engine.close();
  return [
    throughput(
      `${prefix}pull.500`,
      engineChanges / (engineMs / 1000),
      'changes/s',
      rawChanges / (rawMs / 1000),
    ),
  ];
}
