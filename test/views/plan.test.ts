/**
 * Read plans without a store (server/engine/views.ts): what `planFor` / `planRead` build for view
 * and default requests, the collections a plan reads, the store-side oplog filter, and the change
 * each oplog entry becomes under a plan.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  compileRules,
  defineSyncRules,
  WRITER_FIELD,
  type Filter,
} from '../../server/engine/rules.js';
import {
  defaultViewsResolver,
  oplogCollections,
  oplogMatch,
  ownWriter,
  planChanges,
  planFor,
  planRead,
  planShows,
  toMatch,
  VIEWS_MARKER,
  wholeCollections,
  type ReadPlan,
} from '../../server/engine/views.js';
import { BEFORE_WRITER_KEY, type OplogEntry } from '../../server/stores/store.js';
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import { defineSyncSchema } from '../../shared/schema.js';

const schema = defineSyncSchema({
  tasks: z.object({
    title: z.string(),
    assignee: z.string().optional(),
    team: z.string().optional(),
  }),
  parts: z.object({ name: z.string() }),
  notes: z.object({ body: z.string() }),
});

const rules = defineSyncRules({
  mine: {
    collection: 'tasks',
    fields: ['assignee'],
    where: ({ actor }) => ({ assignee: actor.userId }),
  },
  team: {
    collection: 'tasks',
    fields: ['team'],
    params: z.object({ team: z.string() }),
    where: ({ params }) => ({ team: params.team }),
    allow: ({ params }) => params.team !== 'secret',
  },
  red: { collection: 'tasks', fields: ['team'], where: () => ({ team: 'red' }) },
  catalogue: { collection: 'parts', fields: [] },
  broken: { collection: 'tasks', fields: ['assignee'], where: () => ({ title: 'x' }) as never },
});
const compiled = compileRules(rules, schema);
const ann: Actor = { userId: 'ann', scopeId: 's' };

/** A default-views resolver that counts its calls. */
function countingDefaults(names: readonly string[]) {
  const resolve = defaultViewsResolver(compiled, names);
  const counter = {
    calls: 0,
    resolve: async (actor: Actor) => {
      counter.calls++;
      return resolve(actor);
    },
  };
  return counter;
}

async function refusal(p: Promise<unknown>): Promise<SyncError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(SyncError.is(error), String(error)).toBe(true);
  return error as SyncError;
}

const entry = (e: Partial<OplogEntry> & Pick<OplogEntry, 'collection' | 'id'>): OplogEntry => ({
  scope: 's',
  seq: 1,
  idx: 0,
  op: 'upsert',
  data: {},
  version: 'v1',
  actor: 'bob',
  clientId: null,
  mutationId: null,
  at: new Date(0),
  ...e,
});

const planOf = (
  specs: [string, 'all' | Filter[]][],
  watchRefresh = true,
  userId = 'ann',
): ReadPlan => ({
  specs: new Map(specs),
  view: null,
  watchRefresh,
  userId,
});

describe('planRead with a view', () => {
  it("reads only the view's collection, through its filter, and watches refreshes", async () => {
    const defaults = countingDefaults(['mine']);
    for (const collections of [undefined, [], ['tasks']]) {
      const plan = await planRead(compiled, defaults.resolve, schema, undefined, ann, 'pull', {
        collections,
        view: { rule: 'team', params: { team: 'blue' } },
      });
      expect(plan).toEqual({
        specs: new Map([['tasks', [{ team: 'blue' }]]]),
        view: { rule: 'team', collection: 'tasks', filter: { team: 'blue' } },
        watchRefresh: true,
        userId: 'ann',
      });
    }
    expect(defaults.calls).toBe(0);
  });

  it('refuses other collections with the view (400 on `collections`), and a view of a denied collection (403)', async () => {
    const defaults = countingDefaults([]);
    for (const collections of [
      ['parts'],
      ['tasks', 'tasks'],
      ['tasks', 'parts'],
      ['parts', 'tasks'],
    ]) {
      const error = await refusal(
        planRead(compiled, defaults.resolve, schema, undefined, ann, 'pull', {
          collections,
          view: { rule: 'red' },
        }),
      );
      expect(error.code, JSON.stringify(collections)).toBe('BAD_REQUEST');
      expect(error.issues?.[0]?.path).toBe('collections');
    }
    const asked: string[] = [];
    const authorize = ({ collection }: { collection: string }) => {
      asked.push(collection);
      return collection !== 'tasks';
    };
    const denied = await refusal(
      planRead(compiled, defaults.resolve, schema, authorize, ann, 'stream', {
        view: { rule: 'red' },
      }),
    );
    expect(denied.code).toBe('FORBIDDEN');
    expect(asked).toEqual(['tasks']);
    // Allowed: the plan is built.
    const ok = await planRead(compiled, defaults.resolve, schema, () => true, ann, 'full', {
      view: { rule: 'red' },
    });
    expect(ok.specs).toEqual(new Map([['tasks', [{ team: 'red' }]]]));
  });
});

describe('planRead of a default request', () => {
  it("groups the default views' filters by collection; a ruled collection no default view names gets no filter", async () => {
    const defaults = countingDefaults(['mine', 'red']);
    const plan = await planRead(compiled, defaults.resolve, schema, undefined, ann, 'pull', {});
    expect(plan).toEqual({
      specs: new Map<string, unknown>([
        ['tasks', [{ assignee: 'ann' }, { team: 'red' }]],
        ['parts', []],
        ['notes', 'all'],
      ]),
      view: null,
      watchRefresh: true,
      userId: 'ann',
    });
    expect(wholeCollections(plan)).toEqual(['notes']);
    expect(oplogCollections(plan)).toEqual([...schema.names, VIEWS_MARKER]);
    expect(ownWriter(plan)).toBe('ann');

    const both = await planRead(
      compiled,
      countingDefaults(['mine', 'catalogue']).resolve,
      schema,
      undefined,
      ann,
      'pull',
      {},
    );
    expect(both.specs.get('parts')).toEqual([{}]);
    expect(both.specs.get('tasks')).toEqual([{ assignee: 'ann' }]);
  });

  it('does not resolve default views when no read collection is ruled, and watches refreshes only with some filter', async () => {
    const defaults = countingDefaults(['mine']);
    const plan = await planRead(compiled, defaults.resolve, schema, undefined, ann, 'pull', {
      collections: ['notes'],
    });
    expect(defaults.calls).toBe(0);
    expect(plan.specs).toEqual(new Map([['notes', 'all']]));
    expect(plan.watchRefresh).toBe(false);
    expect(oplogCollections(plan)).toEqual(['notes']);
    expect(wholeCollections(plan)).toEqual(['notes']);
    expect(ownWriter(plan)).toBeUndefined();

    // Ruled, but no default view: filtered collections with no filter show nothing to watch.
    const none = await planRead(
      compiled,
      countingDefaults([]).resolve,
      schema,
      undefined,
      ann,
      'pull',
      {
        collections: ['tasks', 'notes'],
      },
    );
    expect(none.specs).toEqual(
      new Map<string, unknown>([
        ['tasks', []],
        ['notes', 'all'],
      ]),
    );
    expect(none.watchRefresh).toBe(false);
    expect(ownWriter(none)).toBe('ann');
  });

  it('reads only the collections authorize allows', async () => {
    const plan = await planRead(
      compiled,
      countingDefaults(['mine']).resolve,
      schema,
      ({ collection }) => collection === 'notes',
      ann,
      'pull',
      {},
    );
    expect(plan.specs).toEqual(new Map([['notes', 'all']]));
  });

  it("a face's own default views replace the engine's; refused ones are left out, other errors thrown", async () => {
    const defaults = countingDefaults(['mine']);
    const plan = await planRead(compiled, defaults.resolve, schema, undefined, ann, 'pull', {
      defaultViews: [
        { rule: 'team', params: { team: 'secret' } },
        { rule: 'team', params: { team: 'blue' } },
      ],
    });
    expect(defaults.calls).toBe(0);
    expect(plan.specs.get('tasks')).toEqual([{ team: 'blue' }]);
    const unknown = await refusal(
      planRead(compiled, defaults.resolve, schema, undefined, ann, 'pull', {
        defaultViews: [{ rule: 'nope' }],
      }),
    );
    expect(unknown.code).toBe('BAD_REQUEST');
    await expect(
      planRead(compiled, defaults.resolve, schema, undefined, ann, 'pull', {
        defaultViews: [{ rule: 'broken' }],
      }),
    ).rejects.toThrow();
  });
});

describe('defaultViewsResolver', () => {
  it('resolves none, a list of rule names, or what a function answers (sync or async)', async () => {
    expect(await defaultViewsResolver(compiled, undefined)(ann)).toEqual([]);
    expect(await defaultViewsResolver(compiled, ['mine', 'red'])(ann)).toEqual([
      { rule: 'mine', collection: 'tasks', filter: { assignee: 'ann' } },
      { rule: 'red', collection: 'tasks', filter: { team: 'red' } },
    ]);
    const seen: Actor[] = [];
    const fn = defaultViewsResolver(compiled, async (actor) => {
      seen.push(actor);
      return [{ rule: 'team', params: { team: actor.userId } }];
    });
    expect(await fn(ann)).toEqual([{ rule: 'team', collection: 'tasks', filter: { team: 'ann' } }]);
    expect(seen).toEqual([ann]);
    expect(
      await defaultViewsResolver(compiled, () => [{ rule: 'team', params: { team: 'secret' } }])(
        ann,
      ),
    ).toEqual([]);
  });
});

describe('planFor', () => {
  it('without rules: no plan, a view refused (400 view.rule), default views a server error', async () => {
    expect(await planFor(null, schema, undefined, ann, 'pull', {})).toBeNull();
    expect(await planFor(null, schema, undefined, ann, 'pull', { defaultViews: [] })).toBeNull();
    const view = await refusal(
      planFor(null, schema, undefined, ann, 'pull', { view: { rule: 'mine' } }),
    );
    expect(view.code).toBe('BAD_REQUEST');
    expect(view.issues).toEqual([{ path: 'view.rule', message: 'no rules are declared' }]);
    const defaults = await refusal(
      planFor(null, schema, undefined, ann, 'pull', { defaultViews: [{ rule: 'mine' }] }),
    );
    expect(defaults.code).toBe('INTERNAL');
  });

  it('with rules: the plan planRead builds', async () => {
    const plan = await planFor(
      { compiled, defaults: defaultViewsResolver(compiled, ['mine']) },
      schema,
      undefined,
      ann,
      'pull',
      { collections: ['tasks'] },
    );
    expect(plan?.specs).toEqual(new Map([['tasks', [{ assignee: 'ann' }]]]));
  });
});

describe('the store-side oplog filter', () => {
  it("toMatch lists each field's allowed values", () => {
    expect(toMatch({ a: 'x', b: 1, c: null, d: false, e: { in: ['p', null] } })).toEqual({
      a: ['x'],
      b: [1],
      c: [null],
      d: [false],
      e: ['p', null],
    });
    expect(toMatch({})).toEqual({});
  });

  it("oplogMatch: the filtered collections' filters, none for whole ones or filters on the writer", () => {
    expect(oplogMatch(null)).toBeUndefined();
    expect(oplogMatch(planOf([['notes', 'all']]))).toBeUndefined();
    expect(oplogMatch(planOf([['tasks', [{ [WRITER_FIELD]: 'ann' }]]]))).toBeUndefined();
    expect(
      oplogMatch(
        planOf([
          ['tasks', [{ team: 'red' }, { assignee: { in: ['ann', 'bob'] } }]],
          ['parts', [{ name: 'x' }, { [WRITER_FIELD]: 'ann' }]],
          ['notes', 'all'],
          ['empty', []],
        ]),
      ),
    ).toEqual(
      new Map([
        ['tasks', [{ team: ['red'] }, { assignee: ['ann', 'bob'] }]],
        ['empty', []],
      ]),
    );
  });

  it('ownWriter: the reader when some collection is filtered', () => {
    expect(ownWriter(null)).toBeUndefined();
    expect(ownWriter(planOf([['notes', 'all']]))).toBeUndefined();
    expect(
      ownWriter(
        planOf(
          [
            ['notes', 'all'],
            ['tasks', []],
          ],
          true,
          'cyd',
        ),
      ),
    ).toBe('cyd');
  });
});

describe('planChanges', () => {
  it('a whole collection shows every entry as it is; a delete without data', () => {
    const plan = planOf([['notes', 'all']]);
    expect(
      planChanges(plan, [
        entry({ collection: 'notes', id: 'a', data: { body: 'x' }, version: 'v1' }),
        entry({ collection: 'notes', id: 'b', op: 'delete', data: null, version: 'v2' }),
        entry({ collection: 'tasks', id: 'c', data: { title: 't' } }),
      ]),
    ).toEqual([
      { collection: 'notes', id: 'a', op: 'upsert', data: { body: 'x' }, version: 'v1' },
      { collection: 'notes', id: 'b', op: 'delete', data: null, version: 'v2' },
    ]);
  });

  it('keeps the latest change per document, ordered by it', () => {
    const plan = planOf([
      ['notes', 'all'],
      ['parts', 'all'],
    ]);
    expect(
      planChanges(plan, [
        entry({ collection: 'notes', id: 'a', data: { body: '1' }, version: 'v1' }),
        entry({ collection: 'parts', id: 'a', data: { name: 'p' }, version: 'v2' }),
        entry({ collection: 'notes', id: 'b', data: { body: '2' }, version: 'v3' }),
        entry({ collection: 'notes', id: 'a', data: { body: '3' }, version: 'v4' }),
      ]),
    ).toEqual([
      { collection: 'parts', id: 'a', op: 'upsert', data: { name: 'p' }, version: 'v2' },
      { collection: 'notes', id: 'b', op: 'upsert', data: { body: '2' }, version: 'v3' },
      { collection: 'notes', id: 'a', op: 'upsert', data: { body: '3' }, version: 'v4' },
    ]);
  });

  it("answers refresh for the reader's own marker when watched; other markers and unwatched plans read on", () => {
    const marker = (id: string) => entry({ collection: VIEWS_MARKER, id, data: {} });
    const note = entry({ collection: 'notes', id: 'n', data: { body: 'x' } });
    expect(planChanges(planOf([['notes', 'all']], true, 'ann'), [marker('ann'), note])).toBe(
      'refresh',
    );
    expect(planChanges(planOf([['notes', 'all']], true, 'ann'), [note, marker('ann')])).toBe(
      'refresh',
    );
    expect(
      planChanges(planOf([['notes', 'all']], false, 'ann'), [marker('ann'), note]),
    ).toHaveLength(1);
    expect(
      planChanges(planOf([['notes', 'all']], true, 'ann'), [marker('bob'), note]),
    ).toHaveLength(1);
    // A plan naming the marker collection itself still never shows a marker.
    expect(planChanges(planOf([[VIEWS_MARKER, 'all']], true, 'ann'), [marker('bob')])).toEqual([]);
  });

  it('a filtered collection: matches after shown, matched before sent as a removal, own writes as left removals', () => {
    const plan = planOf([['tasks', [{ team: 'red' }]]], true, 'ann');
    const tasks = (e: Partial<OplogEntry> & { id: string }) => entry({ collection: 'tasks', ...e });
    const changes = planChanges(plan, [
      // Matches after: shown whole.
      tasks({ id: 'in', data: { team: 'red' }, before: null, version: 'v1' }),
      // Matched before only: a `left` removal.
      tasks({ id: 'moved', data: { team: 'blue' }, before: { team: 'red' }, version: 'v2' }),
      // A delete of a document that matched: a removal, not `left`.
      tasks({ id: 'gone', op: 'delete', data: null, before: { team: 'red' }, version: 'v3' }),
      // No kept pre-image: may have matched, removed to be safe.
      tasks({ id: 'old', data: { team: 'blue' }, before: undefined, version: 'v4' }),
      // Never matched, written by someone else: nothing.
      tasks({ id: 'out', data: { team: 'blue' }, before: { team: 'blue' }, version: 'v5' }),
      tasks({ id: 'new-out', data: { team: 'blue' }, before: null, version: 'v6' }),
      // Never matched, the reader's own write: a `left` removal.
      tasks({ id: 'mine', data: { team: 'blue' }, before: null, actor: 'ann', version: 'v7' }),
      // The reader's own delete of something never shown: nothing.
      tasks({
        id: 'mine-del',
        op: 'delete',
        data: null,
        before: { team: 'blue' },
        actor: 'ann',
        version: 'v8',
      }),
    ]);
    expect(changes).toEqual([
      { collection: 'tasks', id: 'in', op: 'upsert', data: { team: 'red' }, version: 'v1' },
      { collection: 'tasks', id: 'moved', op: 'delete', data: null, version: 'v2', left: true },
      { collection: 'tasks', id: 'gone', op: 'delete', data: null, version: 'v3' },
      { collection: 'tasks', id: 'old', op: 'delete', data: null, version: 'v4', left: true },
      { collection: 'tasks', id: 'mine', op: 'delete', data: null, version: 'v7', left: true },
    ]);
  });

  it("a collection with no filter shows only the reader's own writes, as left removals", () => {
    // Nothing of it was ever shown: an entry without a pre-image is no removal (planShows agrees).
    const others = [
      entry({
        collection: 'tasks',
        id: 'a',
        data: { team: 'red' },
        before: undefined,
        actor: 'bob',
      }),
    ];
    expect(planChanges(planOf([['tasks', []]], true, 'ann'), others)).toEqual([]);
    expect(planShows(planOf([['tasks', []]], true, 'ann'), others)).toBe(false);
    expect(planShows(planOf([['tasks', [{ team: 'blue' }]]], true, 'ann'), others)).toBe(true);
    const plan = planOf([['tasks', []]], true, 'ann');
    expect(
      planChanges(plan, [
        entry({
          collection: 'tasks',
          id: 'a',
          data: { team: 'red' },
          before: undefined,
          actor: 'bob',
        }),
        entry({
          collection: 'tasks',
          id: 'b',
          data: { team: 'red' },
          before: { team: 'red' },
          actor: 'bob',
        }),
        entry({
          collection: 'tasks',
          id: 'c',
          data: { team: 'red' },
          before: undefined,
          actor: 'ann',
          version: 'v9',
        }),
      ]),
    ).toEqual([
      { collection: 'tasks', id: 'c', op: 'delete', data: null, version: 'v9', left: true },
    ]);
  });

  it('a $writer filter reads the previous writer from the pre-image; an unknown one may have matched', () => {
    const plan = planOf([['tasks', [{ [WRITER_FIELD]: 'ann' }]]], true, 'cyd');
    const tasks = (id: string, before: Record<string, unknown> | null, actor = 'bob') =>
      entry({ collection: 'tasks', id, data: { title: 't' }, before, actor, version: id });
    expect(
      planChanges(plan, [
        tasks('by-ann', { title: 't', [BEFORE_WRITER_KEY]: 'ann' }),
        tasks('by-bob', { title: 't', [BEFORE_WRITER_KEY]: 'bob' }),
        tasks('unknown', { title: 't' }),
        tasks('fresh', null),
        tasks('now-ann', { title: 't', [BEFORE_WRITER_KEY]: 'bob' }, 'ann'),
      ]),
    ).toEqual([
      {
        collection: 'tasks',
        id: 'by-ann',
        op: 'delete',
        data: null,
        version: 'by-ann',
        left: true,
      },
      {
        collection: 'tasks',
        id: 'unknown',
        op: 'delete',
        data: null,
        version: 'unknown',
        left: true,
      },
      {
        collection: 'tasks',
        id: 'now-ann',
        op: 'upsert',
        data: { title: 't' },
        version: 'now-ann',
      },
    ]);
    // One $writer filter among others is enough: a pre-image without a writer may have matched it.
    const mixed = planOf([['tasks', [{ title: 'x' }, { [WRITER_FIELD]: 'ann' }]]], true, 'cyd');
    expect(planChanges(mixed, [tasks('k', { title: 't' })])).toEqual([
      { collection: 'tasks', id: 'k', op: 'delete', data: null, version: 'k', left: true },
    ]);
    expect(planShows(mixed, [tasks('k', { title: 't' })])).toBe(true);
    // Without a $writer filter, a pre-image without a writer is judged on its fields.
    const fields = planOf([['tasks', [{ title: 'x' }]]], true, 'cyd');
    expect(
      planChanges(fields, [
        entry({ collection: 'tasks', id: 'k', data: { title: 't' }, before: { title: 't' } }),
      ]),
    ).toEqual([]);
  });
});
