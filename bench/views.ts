/**
 * Issue 19's read-rule costs, same run, same database: one tenant of 100,000 tasks where each of
 * 100 assignees sees 1 % (the `mine` view), against an unfiltered tenant that holds only that
 * user's 1,000 tasks. First sync (`full` of the view, all pages) and an incremental pull after
 * 100 commits of which 1 is the user's, medians of interleaved rounds.
 */
import { z } from 'zod';
import { createSyncEngine } from '../server/engine/engine.js';
import type { Store, StoredDoc } from '../server/stores/store.js';
import type { Actor } from '../shared/protocol.js';
import { defineSyncSchema } from '../shared/schema.js';
import type { BenchDb } from './db.js';
import { measure, percentile, type BenchResult } from './stats.js';

const schema = defineSyncSchema({ tasks: z.object({ title: z.string(), assignee: z.string(), priority: z.number().int() }) });
const rules = { mine: { collection: 'tasks', fields: ['assignee'], where: ({ actor }: { actor: Actor }) => ({ assignee: actor.userId }) } };
const HLC = '20260502T120000.000Z-0000-bench';

async function seed(store: Store, scope: string, count: number, assignee: (i: number) => string): Promise<void> {
  for (let first = 0; first < count; first += 5000) {
    const n = Math.min(5000, count - first);
    await store.transaction(scope, async (tx) => {
      const seq = tx.head.seq + 1;
      const docs: StoredDoc[] = Array.from({ length: n }, (_, k) => {
        const i = first + k;
        const data = { title: `task ${i}`, assignee: assignee(i), priority: i % 5 };
        return { scope, collection: 'tasks', id: `t${String(i).padStart(7, '0')}`, data, fields: { title: HLC, assignee: HLC, priority: HLC }, version: HLC, seq, deleted: false, actor: 'seed' };
      });
      await tx.putDocs(docs);
      await tx.setHead(seq);
    });
  }
}

async function fullAll(engine: { full(a: Actor, i: unknown): Promise<{ docs: unknown[]; cursor: string | null; checkpoint: string }> }, actor: Actor, input: Record<string, unknown>) {
  let cursor: string | null = null;
  let docs = 0;
  let checkpoint = '';
  do {
    const page = await engine.full(actor, { ...input, cursor, limit: 1000 });
    docs += page.docs.length;
    cursor = page.cursor;
    checkpoint = page.checkpoint;
  } while (cursor);
  return { docs, checkpoint };
}

export async function benchViews(db: BenchDb, prefix: string, rounds = 7): Promise<BenchResult[]> {
  const big = `views-big-${Date.now().toString(36)}`;
  const small = `views-small-${Date.now().toString(36)}`;
  await seed(db.store, big, 100_000, (i) => `u${i % 100}`);
  await seed(db.store, small, 1000, () => 'u7');
  const filtered = createSyncEngine({ store: db.store, schema, rules, retention: { pruneIntervalMs: 0 } });
  const plain = createSyncEngine({ store: db.store, schema, retention: { pruneIntervalMs: 0 } });
  const user = (scopeId: string): Actor => ({ userId: 'u7', scopeId });
  const firstView: number[] = [];
  const firstPlain: number[] = [];
  const pullView: number[] = [];
  const pullPlain: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      const view = await fullAll(filtered, user(big), { view: { rule: 'mine' } });
      firstView.push(performance.now() - t);
      t = performance.now();
      const whole = await fullAll(plain, user(small), {});
      firstPlain.push(performance.now() - t);
      if (view.docs !== 1000 || whole.docs !== 1000) throw new Error(`expected 1000 docs each, got ${view.docs} and ${whole.docs}`);
      // 100 commits in the big tenant (one per assignee, one of them u7's); 1 in the small one.
      for (let k = 0; k < 100; k++) {
        await filtered.write(big, [{ collection: 'tasks', id: `t${String(r * 100 + k).padStart(7, '0')}`, op: 'patch', data: { priority: (r + k) % 5 } }]);
      }
      await plain.write(small, [{ collection: 'tasks', id: `t${String(r).padStart(7, '0')}`, op: 'patch', data: { priority: r % 5 } }]);
      t = performance.now();
      const a = await filtered.pull(user(big), { view: { rule: 'mine' }, since: view.checkpoint });
      pullView.push(performance.now() - t);
      t = performance.now();
      const b = await plain.pull(user(small), { since: whole.checkpoint });
      pullPlain.push(performance.now() - t);
      if (a.changes.length !== 1 || b.changes.length !== 1) throw new Error(`expected 1 change each, got ${a.changes.length} and ${b.changes.length}`);
    }
  } finally {
    await filtered.close();
    await plain.close();
  }
  const med = (v: number[]) => percentile(v, 0.5);
  return [
    measure(`${prefix}views.first_sync.1pct_of_100k_ms`, med(firstView), 'ms', med(firstPlain)),
    measure(`${prefix}views.first_sync.ratio_vs_unfiltered_1k`, med(firstView) / med(firstPlain), 'x'),
    measure(`${prefix}views.incremental_pull.ratio_vs_unfiltered_1k`, med(pullView) / med(pullPlain), 'x'),
  ];
}
