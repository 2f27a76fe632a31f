/** readCommits and sinceSeq on the memory store: pages cut only between commits, exact hasMore, and a checkpoint of another epoch needs a resync (kills the commits.ts mutants the store suites left alive). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { encodeCheckpoint } from '../../shared/checkpoint.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { readCommits, sinceSeq } from '../../server/engine/commits.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { memoryStore } from '../../server/stores/memory.js';

const schema = defineSyncSchema({ tasks: z.object({ title: z.string() }) });

/** A memory store whose scope `s` holds one commit per entry of `sizes` (seq 1, 2, …). */
async function storeWithCommits(sizes: number[]) {
  const store = memoryStore();
  await store.init();
  const engine = createSyncEngine({ store, schema });
  let n = 0;
  for (const size of sizes)
    await engine.write(
      's',
      Array.from({ length: size }, () => ({
        collection: 'tasks' as const,
        id: `t${++n}`,
        op: 'upsert' as const,
        data: { title: 'x' },
      })),
    );
  return { store, close: async () => (await engine.close(), await store.close()) };
}
const seqs = (entries: { seq: number }[]) => entries.map((e) => e.seq);

describe('readCommits', () => {
  it('completes a commit the limit cuts into, once each entry, and says there is no more at the end', async () => {
    const { store, close } = await storeWithCommits([3, 3]);
    const page = await readCommits(store, 's', 0, 4);
    expect(seqs(page.entries)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(new Set(page.entries.map((e) => e.id)).size).toBe(6);
    expect(page).toMatchObject({ lastSeq: 2, hasMore: false });
    await close();
  });

  it('says there is more when a commit follows the completed one', async () => {
    const { store, close } = await storeWithCommits([2, 3, 1]);
    const page = await readCommits(store, 's', 0, 3);
    expect(seqs(page.entries)).toEqual([1, 1, 2, 2, 2]);
    expect(page).toMatchObject({ lastSeq: 2, hasMore: true });
    const rest = await readCommits(store, 's', 2, 3);
    expect(seqs(rest.entries)).toEqual([3]);
    expect(rest).toMatchObject({ lastSeq: 3, hasMore: false });
    await close();
  });

  it('stops at a commit boundary that falls on the limit', async () => {
    const { store, close } = await storeWithCommits([2, 2, 2]);
    const page = await readCommits(store, 's', 0, 4);
    expect(seqs(page.entries)).toEqual([1, 1, 2, 2]);
    expect(page).toMatchObject({ lastSeq: 2, hasMore: true });
    await close();
  });
});

describe('sinceSeq', () => {
  it('reads a checkpoint of this store, and answers RESYNC_REQUIRED for one of another epoch', async () => {
    const { store, close } = await storeWithCommits([1]);
    expect(sinceSeq(store, null)).toBe(0);
    expect(sinceSeq(store, encodeCheckpoint({ epoch: store.epoch(), seq: 1 }))).toBe(1);
    const other = store.epoch() === 'otherepoch' ? 'another' : 'otherepoch';
    expect(() => sinceSeq(store, encodeCheckpoint({ epoch: other, seq: 1 }))).toThrow(
      expect.objectContaining({ code: 'RESYNC_REQUIRED' }),
    );
    await close();
  });
});
