/**
 * The `$writer` pseudo-field (a document's last writer) in rules, on every store: `writer: true`
 * combined with a field filter and params, read through the store's index in `full`, and judged
 * on oplog entries by the kept previous writer; and a rule without `fields` naming `$writer`
 * directly (whole pre-images keep the writer too).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSyncEngine } from '../../server/engine/engine.js';
import { defineSyncRules } from '../../server/engine/rules.js';
import type { Store } from '../../server/stores/store.js';
import { actor, fullAll, pullAll, viewsSchema } from './fixture.js';
import { storeKinds } from './stores.js';

const rules = defineSyncRules({
  ownInProject: {
    collection: 'tasks',
    writer: true,
    fields: ['projectId'],
    params: z.object({ projectId: z.string() }),
    where: ({ params }) => ({ projectId: params.projectId }),
  },
  // No fields: unindexed, whole pre-images; `$writer` named in the filter itself.
  ownNotes: { collection: 'notes', where: ({ actor: a }) => ({ $writer: a.userId }) },
});

describe.each(storeKinds)('writer rules on $name', (kind) => {
  let store: Store;
  let drop: () => Promise<void>;
  let engine: ReturnType<typeof createSyncEngine<typeof viewsSchema, typeof rules>>;
  const T = 'tenant-w';
  const ann = actor('ann', T);
  const bob = actor('bob', T);

  beforeEach(async (ctx) => {
    if (kind.skip) return ctx.skip(kind.skip);
    ({ store, drop } = await kind.open());
    engine = createSyncEngine({
      store,
      schema: viewsSchema,
      rules,
      retention: { pruneIntervalMs: 0 },
    });
  });
  afterEach(async () => {
    await engine?.close();
    await drop?.();
  });

  const write = (
    who: typeof ann,
    collection: 'tasks' | 'notes',
    id: string,
    data: Record<string, unknown>,
  ) => engine.write(who, [{ collection, id, op: 'upsert', data }]);

  it('writer: true and a field filter: full through the index, moves on overwrite and on field change', async () => {
    const view = { rule: 'ownInProject', params: { projectId: 'p1' } } as const;
    await write(ann, 'tasks', 't1', { title: 'ann p1', projectId: 'p1' });
    await write(ann, 'tasks', 't2', { title: 'ann p2', projectId: 'p2' });
    await write(bob, 'tasks', 't3', { title: 'bob p1', projectId: 'p1' });
    expect((await fullAll(engine, ann, { view }, 1)).docs.map((d) => d.id)).toEqual(['t1']);
    expect((await fullAll(engine, bob, { view })).docs.map((d) => d.id)).toEqual(['t3']);
    const start = await pullAll(engine, ann, { view });
    // t2 is ann's own write outside the view: a reader of a view hears it as a left removal.
    expect(start.changes.map((c) => [c.id, c.op, c.left ?? false])).toEqual([
      ['t1', 'upsert', false],
      ['t2', 'delete', true],
    ]);

    await write(bob, 'tasks', 't1', { title: 'bob took it', projectId: 'p1' }); // writer changes
    await write(ann, 'tasks', 't2', { title: 'ann moved it', projectId: 'p1' }); // field changes
    const next = await pullAll(engine, ann, { view, since: start.checkpoint });
    expect(next.changes.map((c) => [c.id, c.op, c.left ?? false])).toEqual([
      ['t1', 'delete', true],
      ['t2', 'upsert', false],
    ]);
    expect((await fullAll(engine, ann, { view })).docs.map((d) => d.id)).toEqual(['t2']);
    expect((await fullAll(engine, bob, { view })).docs.map((d) => d.id)).toEqual(['t1', 't3']);
  });

  it('$writer in a rule without fields: whole pre-images keep the previous writer', async () => {
    const view = { rule: 'ownNotes' } as const;
    await write(ann, 'notes', 'n1', { body: 'ann' });
    const start = await pullAll(engine, ann, { view });
    expect(start.changes.map((c) => c.id)).toEqual(['n1']);
    // Bob writes a note Ann never saw: nothing for Ann (its pre-image says Ann was not the writer).
    await write(bob, 'notes', 'n2', { body: 'bob' });
    await write(bob, 'notes', 'n2', { body: 'bob again' });
    await write(bob, 'notes', 'n1', { body: 'bob over ann' });
    const next = await pullAll(engine, ann, { view, since: start.checkpoint });
    expect(next.changes).toEqual([
      {
        collection: 'notes',
        id: 'n1',
        op: 'delete',
        data: null,
        version: expect.any(String),
        left: true,
      },
    ]);
    expect((await fullAll(engine, bob, { view })).docs.map((d) => d.id)).toEqual(['n1', 'n2']);
  });
});
