// The SQL store's oplogStats() above exactCountLimit: the planner's row count scaled to the table's current size, on PGlite and PostgreSQL.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { pgliteStore, postgresStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import { commit } from './sql-fixtures.js';

const url = process.env.TEST_DATABASE_URL;
const cleanup: Array<() => Promise<void>> = [];
// Each test closes what it opened: an in-memory PGlite holds several hundred MB.
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function fill(
  store: Store,
  scope: string,
  commits: number,
  perCommit: number,
): Promise<void> {
  for (let c = 0; c < commits; c++) {
    await commit(
      store,
      scope,
      Array.from(
        { length: perCommit },
        (_, i) =>
          ['tasks', `d${c}-${i}`, { n: c, pad: 'x'.repeat(200) }] as [
            string,
            string,
            Record<string, unknown>,
          ],
      ),
    );
  }
}

function estimateSuite(
  name: string,
  open: (exactCountLimit: number) => Promise<{ store: Store }>,
): void {
  describe(`oplogStats on ${name}`, () => {
    it('counts exactly below exactCountLimit, also before any ANALYZE', async () => {
      const { store } = await open(100_000);
      await fill(store, 'exact', 10, 30);
      expect(await store.oplogStats()).toMatchObject({ entries: 300, estimated: false });
    });

    it('estimates from planner statistics above it (gathered once when missing), following growth since', async () => {
      const { store } = await open(500);
      await fill(store, 'big', 20, 50);
      // No statistics yet (reltuples -1): an exact count, which finds the table over the limit and runs ANALYZE.
      expect(await store.oplogStats()).toMatchObject({ entries: 1000, estimated: false });
      const analyzed = await store.oplogStats();
      expect(analyzed.estimated).toBe(true);
      expect(analyzed.entries).toBeGreaterThan(900);
      expect(analyzed.entries).toBeLessThan(1100);
      // Twice the rows, same statistics: the estimate scales with the table's pages.
      await fill(store, 'big2', 20, 50);
      const grown = await store.oplogStats();
      expect(grown.estimated).toBe(true);
      expect(grown.entries).toBeGreaterThan(1700);
      expect(grown.entries).toBeLessThan(2300);
      expect(grown.newestAt!.getTime()).toBeGreaterThanOrEqual(grown.oldestAt!.getTime());
    });

    it('refuses a negative exactCountLimit naming the option', async () => {
      await expect(open(-1)).rejects.toThrow(/exactCountLimit/);
    });
  });
}

estimateSuite('PGlite', async (exactCountLimit) => {
  const store = await pgliteStore(undefined, { exactCountLimit });
  cleanup.push(() => store.close());
  await store.init();
  return { store };
});

if (url) {
  estimateSuite('PostgreSQL', async (exactCountLimit) => {
    const schema = `oplog_stats_${randomBytes(4).toString('hex')}`;
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    cleanup.push(async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    });
    const store = postgresStore(pool, { schema, exactCountLimit });
    cleanup.push(() => store.close());
    await store.init();
    return { store };
  });
} else {
  console.log('skipped: oplogStats on PostgreSQL (TEST_DATABASE_URL not set)');
}
