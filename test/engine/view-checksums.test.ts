/**
 * `viewChecksumsAt` (server/engine/view-checksums.ts) on the memory store: the sum is over the
 * view's collection only (another collection with the same field and value is not in it), over
 * every scan page of a view bigger than one page, with no sum when a page after the first is not
 * allowed, when the view is bigger than `maxDocs`, or when a commit landed after `through`.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { addSum, checksumHex } from '../../shared/checksum.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { storedHash } from '../../server/engine/checksums.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { viewChecksumsAt } from '../../server/engine/view-checksums.js';
import type { ReadPlan } from '../../server/engine/views.js';
import { memoryStore } from '../../server/stores/memory.js';

const schema = defineSyncSchema({
  tasks: z.object({ assignee: z.string() }),
  jobs: z.object({ assignee: z.string() }),
});
const SCOPE = 'acme';
const plan: ReadPlan = {
  specs: new Map([['tasks', [{ assignee: 'ann' }]]]),
  view: { rule: 'mine', collection: 'tasks', filter: { assignee: 'ann' } },
  watchRefresh: false,
  userId: 'ann',
};

async function setup(annTasks: number) {
  const store = memoryStore();
  await store.init();
  const engine = createSyncEngine({ store, schema, retention: { pruneIntervalMs: 0 } });
  const write = async (
    collection: 'tasks' | 'jobs',
    prefix: string,
    n: number,
    assignee: string,
  ) => {
    // In commits of at most 1,000 changes (limits.maxChangesPerPush).
    for (let from = 0; from < n; from += 1_000)
      await engine.write(
        SCOPE,
        Array.from({ length: Math.min(1_000, n - from) }, (_, i) => ({
          collection,
          id: `${prefix}${String(from + i).padStart(5, '0')}`,
          op: 'upsert' as const,
          data: { assignee },
        })),
      );
  };
  await write('tasks', 'a', annTasks, 'ann');
  await write('tasks', 'b', 3, 'bob');
  await write('jobs', 'j', 2, 'ann'); // same field and value, another collection
  /** The sum over ann's tasks as the store holds them. */
  const expected = async () => {
    let sum = 0n;
    for (const doc of await store.scanDocs(SCOPE, {
      collections: ['tasks'],
      after: null,
      limit: 100_000,
    }))
      if (doc.data?.assignee === 'ann') sum = addSum(sum, storedHash(doc));
    return { tasks: checksumHex(sum) };
  };
  const head = async () => (await store.head(SCOPE)).seq;
  return { store, engine, write, expected, head };
}

describe('viewChecksumsAt', () => {
  it("sums exactly the view's documents of its collection, across scan pages (2,500 documents)", async () => {
    const { store, engine, expected, head } = await setup(2_500);
    try {
      expect(await viewChecksumsAt(store, SCOPE, plan, await head())).toEqual(await expected());
      let pages = 0;
      const budget = { maxDocs: 10_000, page: () => (pages++, true) };
      expect(await viewChecksumsAt(store, SCOPE, plan, await head(), budget)).toEqual(
        await expected(),
      );
      expect(pages).toBe(2); // asked before the second and third page, not the first
    } finally {
      await engine.close();
    }
  });

  it('no sum when a page after the first is not allowed, when the view is bigger than maxDocs, or when a commit landed after through', async () => {
    const { store, engine, write, head } = await setup(1_500);
    try {
      const through = await head();
      expect(
        await viewChecksumsAt(store, SCOPE, plan, through, { maxDocs: 10_000, page: () => false }),
      ).toBeUndefined();
      expect(
        await viewChecksumsAt(store, SCOPE, plan, through, { maxDocs: 1_499 }),
      ).toBeUndefined();
      expect(await viewChecksumsAt(store, SCOPE, plan, through, { maxDocs: 1_500 })).toBeDefined();
      await write('jobs', 'late', 1, 'bob');
      expect(await viewChecksumsAt(store, SCOPE, plan, through)).toBeUndefined();
      // Not a view request: no view sum.
      expect(
        await viewChecksumsAt(store, SCOPE, { ...plan, view: null }, await head()),
      ).toBeUndefined();
    } finally {
      await engine.close();
    }
  });
});
