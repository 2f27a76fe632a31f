/**
 * A reader's own writes outside what it reads: heard as "left view" removals on a view's pull and
 * on a default request (its default views, or none for a ruled collection no default view names),
 * so a device drops a task it created for someone else once it is pushed instead of keeping a
 * copy no read will ever update; never another user's documents.
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

  it("a default request sends its own writes outside its default views as left removals, nobody else's", async () => {
    await put(ann, 'a-own', 'ann');
    await put(ann, 'a-for-bob', 'bob');
    await put(bob, 'b-own', 'bob');
    const page = await pullAll(engine, ann, {});
    expect(shape(page.changes)).toEqual([
      ['a-own', 'upsert', false],
      ['a-for-bob', 'delete', true],
    ]);
    // The stream's catch-up says the same.
    const ac = new AbortController();
    const events = engine.stream(ann, {}, ac.signal)[Symbol.asyncIterator]();
    const first = (await events.next()).value;
    ac.abort();
    expect(first.type === 'changes' && shape(first.changes)).toEqual([
      ['a-own', 'upsert', false],
      ['a-for-bob', 'delete', true],
    ]);
  });

  it('a ruled collection no default view names: a default request shows only its own writes there, as left removals, and exports nothing of it', async () => {
    const none = createSyncEngine({
      store,
      schema: viewsSchema,
      rules,
      retention: { pruneIntervalMs: 0 },
    });
    try {
      await put(ann, 'a-own', 'ann');
      await put(bob, 'b-own', 'bob');
      await none.write(ann, [{ collection: 'notes', id: 'n', op: 'upsert', data: { body: 'x' } }]);
      const page = await pullAll(none, ann, {});
      expect(shape(page.changes)).toEqual([
        ['a-own', 'delete', true],
        ['n', 'upsert', false],
      ]);
      expect(shape((await pullAll(none, bob, {})).changes)).toEqual([
        ['b-own', 'delete', true],
        ['n', 'upsert', false],
      ]);
      const exported = await none.full(ann, {});
      expect(exported.docs.map((d) => d.id)).toEqual(['n']);
    } finally {
      await none.close();
    }
  });
});
