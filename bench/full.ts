/** `full.100k`: docs/s of a full export through `engine.full` pages vs a raw keyset scan, and RSS growth during it. */
import type { BenchDb } from './db.js';
import { benchEngine, seedDocs } from './data.js';
import { detail, mb } from './detail.js';
import { collectGarbage, RssSampler } from './memory.js';
import { measure, throughput, type BenchResult } from './stats.js';

/** Documents in the export. */
export const FULL_DOCS = 100_000;
/** Page size of every full export here: `limits.fullDefaultLimit`, what clients get when they ask for none. */
export const FULL_PAGE = 1000;

/** Keyset scan of `scope` in pages of `FULL_PAGE`, the same columns `full` answers; returns the row count. */
export async function rawScan(db: BenchDb, scope: string): Promise<number> {
  const select = `SELECT collection, id, data, version, deleted FROM ${db.table('sync_docs')}
    WHERE scope = $1 AND (collection, id) > ($2::text, $3::text) ORDER BY collection, id LIMIT ${FULL_PAGE}`;
  let after: [string, string] = ['', ''];
  let n = 0;
  for (;;) {
    const rows = await db.raw.query<{ collection: string; id: string }>(select, [scope, ...after]);
    n += rows.length;
    if (rows.length < FULL_PAGE) return n;
    const last = rows[rows.length - 1]!;
    after = [last.collection, last.id];
  }
}

/**
 * Seeds 100k documents (then VACUUM ANALYZE, so neither side pays for hint bits or stale
 * statistics), then alternates raw scan and engine export: one pass each on PGlite (slow), best
 * of two on PostgreSQL. RSS is sampled during the first engine export, after a full GC.
 */
export async function benchFull(db: BenchDb, prefix: string): Promise<BenchResult[]> {
  const scope = 'full';
  let t = performance.now();
  await seedDocs(db.store, scope, FULL_DOCS);
  await db.raw.query(`VACUUM ANALYZE ${db.table('sync_docs')}`);
  detail(`seeded ${FULL_DOCS} documents in ${((performance.now() - t) / 1000).toFixed(1)}s`);
  const engine = benchEngine(db.store);
  const actor = { userId: 'bench', scopeId: scope };
  const exportAll = async () => {
    let cursor: string | null = null;
    let n = 0;
    do {
      const page = await engine.full(actor, { cursor, limit: FULL_PAGE });
      n += page.docs.length;
      cursor = page.cursor;
    } while (cursor);
    return n;
  };
  const time = async (fn: () => Promise<number>) => {
    const started = performance.now();
    const n = await fn();
    if (n !== FULL_DOCS)
      throw new Error(`full export returned ${n} documents, expected ${FULL_DOCS}`);
    return performance.now() - started;
  };

  await engine.full(actor, { limit: 10 }); // warm the engine path, not measured
  const passes = db.kind === 'pglite' ? 1 : 2;
  const rawMs: number[] = [];
  const engineMs: number[] = [];
  let growth = 0;
  for (let i = 0; i < passes; i++) {
    rawMs.push(await time(() => rawScan(db, scope)));
    collectGarbage();
    const rss = i === 0 ? new RssSampler(undefined, 5) : null;
    engineMs.push(await time(exportAll));
    if (rss) {
      growth = rss.stop();
      detail(
        `RSS during the export: ${mb(rss.start)} MB at start, ${mb(rss.peak)} MB peak (this process: engine + PGlite/pg client)`,
      );
    }
  }
  await engine.close();
  t = Math.min(...engineMs);
  detail(
    `export ${(t / 1000).toFixed(2)}s (pages of ${FULL_PAGE}), raw scan ${(Math.min(...rawMs) / 1000).toFixed(2)}s`,
  );
  return [
    throughput(
      `${prefix}full.100k`,
      FULL_DOCS / (t / 1000),
      'docs/s',
      FULL_DOCS / (Math.min(...rawMs) / 1000),
    ),
    measure(`${prefix}full.100k.rss_growth_mb`, growth, 'MB'),
  ];
}
