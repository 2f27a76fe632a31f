/**
 * `engine.full` paging (server/engine/full.ts) on every store kind: each page but the last holds
 * exactly `limit` documents and only the last has no cursor (also when the total is a multiple of
 * the limit); with read rules the default views' export runs across whole and filtered collections
 * in (collection, id) order; an actor who may read no collection exports nothing; an unknown
 * collection and a cursor of another store are refused.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSyncEngine } from '../../server/engine/engine.js';
import { defineSyncRules } from '../../server/engine/rules.js';
import type { Store } from '../../server/stores/store.js';
import { memoryStore } from '../../server/stores/memory.js';
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import { actor, viewsSchema } from '../views/fixture.js';
import { storeKinds } from '../views/stores.js';

type Engine = {
  full(
    a: Actor,
    input: unknown,
  ): Promise<{ docs: { collection: string; id: string }[]; cursor: string | null }>;
};

/** Every page of an export with `limit`: the size of each and the documents in order. */
async function pages(engine: Engine, who: Actor, limit: number, input: object = {}) {
  const sizes: number[] = [];
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await engine.full(who, { ...input, cursor, limit });
    sizes.push(page.docs.length);
    ids.push(...page.docs.map((d) => `${d.collection}/${d.id}`));
    cursor = page.cursor;
  } while (cursor !== null && sizes.length < 50);
  return { sizes, ids };
}

const rules = defineSyncRules({
  mine: {
    collection: 'tasks',
    fields: ['assignee'],
    where: ({ actor: a }) => ({ assignee: a.userId }),
  },
  catalogue: { collection: 'parts' },
});

describe.each(storeKinds)('engine.full pages on $name', (kind) => {
  let store: Store;
  let drop: () => Promise<void>;
  const T = 'tenant-full';
  const ann = actor('ann', T);

  beforeEach(async (ctx) => {
    if (kind.skip) return ctx.skip(kind.skip);
    ({ store, drop } = await kind.open());
  });
  afterEach(async () => drop?.());

  const seed = (engine: { write(a: Actor | string, c: unknown[]): Promise<unknown> }) =>
    engine.write(T, [
      ...['a1', 'a2', 'a3'].map((id) => ({
        collection: 'tasks',
        id,
        op: 'upsert',
        data: { title: id, assignee: 'ann' },
      })),
      ...['b1', 'b2'].map((id) => ({
        collection: 'tasks',
        id,
        op: 'upsert',
        data: { title: id, assignee: 'bob' },
      })),
      ...['n1', 'n2', 'n3'].map((id) => ({
        collection: 'notes',
        id,
        op: 'upsert',
        data: { body: id },
      })),
      ...['p1', 'p2'].map((id) => ({ collection: 'parts', id, op: 'upsert', data: { name: id } })),
    ]);

  it('every page but the last holds exactly limit documents; only the last has no cursor, also when the total is a multiple of the limit', async () => {
    const engine = createSyncEngine({
      store,
      schema: viewsSchema,
      retention: { pruneIntervalMs: 0 },
    });
    try {
      await seed(engine as never);
      const all = [
        'notes/n1',
        'notes/n2',
        'notes/n3',
        'parts/p1',
        'parts/p2',
        'tasks/a1',
        'tasks/a2',
        'tasks/a3',
        'tasks/b1',
        'tasks/b2',
      ];
      expect(await pages(engine, ann, 5)).toEqual({ sizes: [5, 5], ids: all });
      expect(await pages(engine, ann, 10)).toEqual({ sizes: [10], ids: all });
      expect(await pages(engine, ann, 3)).toEqual({ sizes: [3, 3, 3, 1], ids: all });
      expect(await pages(engine, ann, 11)).toEqual({ sizes: [10], ids: all });
      expect(await pages(engine, ann, 2, { collections: ['notes'] })).toEqual({
        sizes: [2, 1],
        ids: all.slice(0, 3),
      });
    } finally {
      await engine.close();
    }
  });

  it('an actor who may read no collection exports nothing; an unknown collection and a cursor of another store are refused', async () => {
    const engine = createSyncEngine({
      store,
      schema: viewsSchema,
      retention: { pruneIntervalMs: 0 },
      authorizeCollection: ({ actor: a }) => a.userId !== 'nobody',
    });
    const other = memoryStore();
    await other.init();
    const elsewhere = createSyncEngine({
      store: other,
      schema: viewsSchema,
      retention: { pruneIntervalMs: 0 },
    });
    try {
      await seed(engine as never);
      expect(await pages(engine, actor('nobody', T), 3)).toEqual({ sizes: [0], ids: [] });
      const unknown = await engine.full(ann, { collections: ['nope'] }).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(SyncError);
      expect((unknown as SyncError).code).toBe('BAD_REQUEST');
      await seed(elsewhere as never);
      const foreign = (await elsewhere.full(ann, { limit: 2 })).cursor;
      expect(foreign).not.toBeNull();
      const refused = await engine
        .full(ann, { cursor: foreign, limit: 2 })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SyncError);
      expect(['RESYNC_REQUIRED', 'BAD_REQUEST']).toContain((refused as SyncError).code);
    } finally {
      await engine.close();
      await elsewhere.close();
      await other.close();
    }
  });

  it("with read rules, a default request's export runs over whole and filtered collections in (collection, id) order, in exact pages, and leaves out a ruled collection no default view names", async () => {
    const engine = createSyncEngine({
      store,
      schema: viewsSchema,
      rules,
      defaultViews: ['mine'],
      retention: { pruneIntervalMs: 0 },
    });
    try {
      await seed(engine as never);
      const mine = ['notes/n1', 'notes/n2', 'notes/n3', 'tasks/a1', 'tasks/a2', 'tasks/a3'];
      for (const limit of [1, 2, 3, 4, 5, 6, 7]) {
        const { sizes, ids } = await pages(engine, ann, limit);
        expect(ids, `limit ${limit}`).toEqual(mine);
        expect(
          sizes.slice(0, -1).every((n) => n === limit),
          `limit ${limit}: ${sizes}`,
        ).toBe(true);
        expect(sizes.at(-1)).toBe(mine.length - limit * (sizes.length - 1));
      }
      // A view of a whole ruled collection, and of the filtered one, alone.
      expect((await pages(engine, ann, 1, { view: { rule: 'catalogue' } })).ids).toEqual([
        'parts/p1',
        'parts/p2',
      ]);
      expect((await pages(engine, actor('bob', T), 1, { view: { rule: 'mine' } })).ids).toEqual([
        'tasks/b1',
        'tasks/b2',
      ]);
    } finally {
      await engine.close();
    }
  });
});
