/**
 * A view's reader's own writes outside the view: heard as "left view" removals on a view's pull
 * (so a subscribing device drops a task it created for someone else once it is pushed), never
 * another user's documents, and nothing new on a default request (its rule is unchanged).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSyncEngine } from '../../server/engine/engine.js';
import { defineSyncRules } from '../../server/engine/rules.js';
import type { Store } from '../../server/stores/store.js';
import { actor, pullAll, viewsSchema } from './fixture.js';
import { storeKinds } from './stores.js';

const rules = defineSyncRules({
  mine: {
    collection: 'tasks',
    fields: ['assignee'],
    where: ({ actor: a }) => ({ assignee: a.userId }),
  },
});

describe.each(storeKinds)('own writes outside a view on $name', (kind) => {
  let store: Store;
  let drop: () => Promise<void>;
  let engine: ReturnType<typeof createSyncEngine<typeof viewsSchema, typeof rules>>;
  const T = 'tenant-own';
  const ann = actor('ann', T);
  const bob = actor('bob', T);

  beforeEach(async (ctx) => {
    if (kind.skip) return ctx.skip(kind.skip);
    ({ store, drop } = await kind.open());
    engine = createSyncEngine({
      store,
      schema: viewsSchema,
      rules,
      defaultViews: ['mine'],
      retention: { pruneIntervalMs: 0 },
    });
  });
  afterEach(async () => {
    await engine?.close();
    await drop?.();
  });

  const put = (who: typeof ann, id: string, assignee: string) =>
    engine.write(who, [
      { collection: 'tasks', id, op: 'upsert', data: { title: id, projectId: 'p', assignee } },
    ]);
  const shape = (changes: { id: string; op: string; left?: boolean }[]) =>
    changes.map((c) => [c.id, c.op, c.left ?? false]);

  it("a view's pull sends the reader's own write outside it as a left removal, nobody else's", async () => {
    await put(ann, 'a-own', 'ann');
    await put(ann, 'a-for-bob', 'bob'); // ann creates a task for bob
    await put(bob, 'b-own', 'bob');
    const view = { rule: 'mine' } as const;
    const first = await pullAll(engine, ann, { view });
    expect(shape(first.changes)).toEqual([
      ['a-own', 'upsert', false],
      ['a-for-bob', 'delete', true],
    ]);
    expect(shape((await pullAll(engine, bob, { view })).changes)).toEqual([
      ['a-for-bob', 'upsert', false],
      ['b-own', 'upsert', false],
    ]);
    // Incrementally too, and a task bob writes for bob never reaches ann in any shape.
    await put(ann, 'a-for-bob-2', 'bob');
    await put(bob, 'b-own-2', 'bob');
    const next = await pullAll(engine, ann, { view, since: first.checkpoint });
    expect(shape(next.changes)).toEqual([['a-for-bob-2', 'delete', true]]);
  });

  it('a default request is unchanged: only what its default views hold', async () => {
    await put(ann, 'a-own', 'ann');
    await put(ann, 'a-for-bob', 'bob');
    const page = await pullAll(engine, ann, {});
    expect(shape(page.changes)).toEqual([['a-own', 'upsert', false]]);
  });
});
