/**
 * The live feed's dispatch index, case by case: which subscribers a commit's entries find (exactly,
 * not only a superset: the passed-over ones are the index's point), how each kind of filter value is
 * keyed, and that removing subscribers leaves nothing behind. The seeded superset property is in
 * test/views/plan-shows.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { OplogEntry } from '../../server/stores/store.js';
import { WRITER_FIELD, type Filter } from '../../server/engine/rules.js';
import { planShows, VIEWS_MARKER, type ReadPlan } from '../../server/engine/views.js';
import { DispatchIndex, planKeys, type PlanKeys } from '../../server/engine/dispatch.js';

/** A read plan of `userId` over these collections (`'all'` or filters). */
function plan(userId: string, specs: Record<string, 'all' | Filter[]>): ReadPlan {
  return {
    specs: new Map(Object.entries(specs)),
    view: null,
    watchRefresh: true,
    userId,
  } as unknown as ReadPlan;
}

/** An oplog entry; `before` undefined: no pre-image kept, null: the document did not exist. */
function entry(e: {
  collection?: string;
  id?: string;
  op?: 'upsert' | 'delete';
  data?: Record<string, unknown> | null;
  before?: Record<string, unknown> | null;
  actor?: string;
}): OplogEntry {
  const op = e.op ?? 'upsert';
  return {
    scope: 's',
    seq: 1,
    idx: 0,
    collection: e.collection ?? 'tasks',
    id: e.id ?? 'x',
    op,
    data: op === 'delete' ? null : (e.data ?? {}),
    before: e.before,
    actor: e.actor ?? 'zed',
    version: 'v1',
    clientId: null,
    mutationId: null,
    at: new Date(0),
  } as OplogEntry;
}

function keysOf(p: ReadPlan): PlanKeys {
  const keys = planKeys(p);
  expect(keys).not.toBeNull();
  return keys!;
}

/** An index of these plans (numbered from 0) and the numbers a commit of `entries` finds. */
function indexOf(plans: ReadPlan[]) {
  const index = new DispatchIndex<number>();
  plans.forEach((p, i) => index.add(i, keysOf(p)));
  return {
    index,
    found: (...entries: OplogEntry[]) => [...index.candidates(entries)].sort((a, b) => a - b),
  };
}

/** The index's own maps (private): what removing every subscriber must leave empty. */
function internals(index: DispatchIndex<number>) {
  return index as unknown as {
    byKey: Map<string, Set<number>>;
    registered: Map<number, PlanKeys>;
    fieldCounts: Map<string, Map<string, number>>;
  };
}

describe('planKeys', () => {
  it('indexes filters on fields, filters without fields and whole collections; not a filter on $writer alone', () => {
    expect(planKeys(plan('ann', { tasks: [{ owner: 'a' }] }))).not.toBeNull();
    expect(
      planKeys(plan('ann', { tasks: [{ [WRITER_FIELD]: 'bob', owner: 'a' }] })),
    ).not.toBeNull();
    expect(planKeys(plan('ann', { tasks: [{}] }))).not.toBeNull();
    expect(planKeys(plan('ann', { tasks: 'all', notes: [] }))).not.toBeNull();
    expect(
      planKeys(plan('ann', { tasks: [{ owner: 'a' }, { [WRITER_FIELD]: 'bob' }] })),
    ).toBeNull();
  });
});

describe('DispatchIndex candidates', () => {
  it('finds a filtered plan only by a matching value after or before, or an entry without a pre-image', () => {
    const { found } = indexOf([plan('ann', { tasks: [{ owner: 'a' }] })]);
    expect(found(entry({ data: { owner: 'a' }, before: { owner: 'b' } }))).toEqual([0]);
    expect(found(entry({ data: { owner: 'b' }, before: { owner: 'a' } }))).toEqual([0]);
    expect(found(entry({ op: 'delete', before: { owner: 'a' } }))).toEqual([0]);
    expect(found(entry({ data: { owner: 'b' } }))).toEqual([0]); // no pre-image: may have matched
    // Neither side matches: passed over (as planShows says), also for a document that did not exist.
    const unseen = [
      entry({ data: { owner: 'b' }, before: { owner: 'c' } }),
      entry({ data: { owner: 'b' }, before: null }),
      entry({ op: 'delete', before: { owner: 'b' } }),
      entry({ collection: 'notes', data: { owner: 'a' } }),
    ];
    for (const e of unseen) {
      expect(planShows(plan('ann', { tasks: [{ owner: 'a' }] }), [e])).toBe(false);
      expect(found(e)).toEqual([]);
    }
  });

  it("finds the reader's own writes and refresh markers, and whole collections by any entry", () => {
    const { found } = indexOf([
      plan('ann', { tasks: [{ owner: 'a' }] }),
      plan('bob', { tasks: 'all' }),
      plan('cyd', { notes: [] }),
    ]);
    expect(found(entry({ data: { owner: 'b' }, before: null, actor: 'ann' }))).toEqual([0, 1]);
    expect(found(entry({ collection: VIEWS_MARKER, id: 'cyd' }))).toEqual([2]);
    expect(found(entry({ collection: VIEWS_MARKER, id: 'zed', actor: 'ann' }))).toEqual([]);
    // A collection read with no filter at all shows only own writes, even without a pre-image.
    expect(found(entry({ collection: 'notes', data: { owner: 'a' } }))).toEqual([]);
    expect(found(entry({ collection: 'notes', data: {}, actor: 'cyd' }))).toEqual([2]);
  });

  it('finds a filter without fields by every entry of its collection, and only of it', () => {
    const { found } = indexOf([plan('ann', { tasks: [{}] })]);
    expect(found(entry({ data: { owner: 'q' }, before: { owner: 'r' } }))).toEqual([0]);
    expect(found(entry({ collection: 'notes', data: {}, before: null }))).toEqual([]);
  });

  it('looks up only the first field that is not $writer, and every value of an `in`', () => {
    const { found } = indexOf([
      plan('ann', { tasks: [{ [WRITER_FIELD]: 'bob', team: { in: ['x', 'y'] } }] }),
    ]);
    expect(found(entry({ data: { team: 'y' }, before: null }))).toEqual([0]);
    expect(found(entry({ data: { team: 'x' }, before: null }))).toEqual([0]);
    expect(found(entry({ data: { team: 'z' }, before: null }))).toEqual([]);
  });

  it('keys values by type: a number, a boolean and a string of the same text are different values', () => {
    const { found } = indexOf([
      plan('ann', { tasks: [{ rank: 1 }] }),
      plan('bob', { tasks: [{ rank: '1' }] }),
      plan('cyd', { tasks: [{ rank: true }] }),
      plan('dan', { tasks: [{ rank: 'true' }] }),
      plan('eve', { tasks: [{ rank: null }] }),
    ]);
    const at = (rank: unknown) => found(entry({ data: { rank }, before: null }));
    expect(at(1)).toEqual([0]);
    expect(at('1')).toEqual([1]);
    expect(at(true)).toEqual([2]);
    expect(at('true')).toEqual([3]);
    expect(at(null)).toEqual([4]);
    expect(at(false)).toEqual([]);
    expect(at(2)).toEqual([]);
    expect(at('null')).toEqual([]);
  });

  it('a missing field is null; an object or array value matches no filter value', () => {
    const { found } = indexOf([plan('ann', { tasks: [{ owner: null }] })]);
    const p = plan('ann', { tasks: [{ owner: null }] });
    const missing = entry({ data: { title: 't' }, before: null });
    expect(planShows(p, [missing])).toBe(true);
    expect(found(missing)).toEqual([0]);
    expect(found(entry({ data: { owner: 'a' }, before: { title: 't' } }))).toEqual([0]);
    const unseen = [
      entry({ data: { owner: { id: 'a' } }, before: { owner: 'b' } }),
      entry({ data: { owner: ['a'] }, before: { owner: 'b' } }),
      entry({ data: { owner: 'b' }, before: { owner: { id: 'a' } } }),
      entry({ op: 'delete', before: { owner: 'b' } }),
    ];
    for (const e of unseen) {
      expect(planShows(p, [e])).toBe(false);
      expect(found(e)).toEqual([]);
    }
  });
});

describe('DispatchIndex add and remove', () => {
  it("adding a subscriber again replaces its keys; removing one keeps the others' shared keys", () => {
    const { index, found } = indexOf([
      plan('ann', { tasks: [{ owner: 'a' }] }),
      plan('bob', { tasks: [{ owner: 'a' }] }),
    ]);
    index.add(0, keysOf(plan('ann', { tasks: [{ owner: 'b' }] })));
    expect(index.size).toBe(2);
    expect(found(entry({ data: { owner: 'a' }, before: null }))).toEqual([1]);
    expect(found(entry({ data: { owner: 'b' }, before: null }))).toEqual([0]);
    index.add(2, keysOf(plan('cyd', { tasks: [{ owner: 'b' }] })));
    index.remove(0);
    expect(index.has(0)).toBe(false);
    expect(found(entry({ data: { owner: 'b' }, before: null }))).toEqual([2]);
    index.remove(0); // not registered: nothing changes
    expect(index.size).toBe(2);
  });

  it('removing every subscriber leaves no key, field count or collection behind', () => {
    const plans = [
      plan('ann', { tasks: [{ owner: 'a' }, { team: 'x' }], notes: 'all' }),
      plan('bob', { tasks: [{ owner: 'a' }], parts: [{ kind: { in: ['p', 'q'] } }] }),
      plan('cyd', { tasks: [{ owner: 'b' }, {}] }),
    ];
    const { index } = indexOf(plans);
    const maps = internals(index);
    expect(maps.fieldCounts.get('tasks')).toEqual(
      new Map([
        ['owner', 3],
        ['team', 1],
      ]),
    );
    index.remove(1);
    expect(maps.fieldCounts.get('tasks')).toEqual(
      new Map([
        ['owner', 2],
        ['team', 1],
      ]),
    );
    expect(maps.fieldCounts.has('parts')).toBe(false);
    // Re-adding a registered subscriber does not count its fields twice.
    index.add(0, keysOf(plans[0]!));
    expect(maps.fieldCounts.get('tasks')!.get('owner')).toBe(2);
    index.remove(0);
    index.remove(2);
    expect(index.size).toBe(0);
    expect(maps.byKey.size).toBe(0);
    expect(maps.registered.size).toBe(0);
    expect(maps.fieldCounts.size).toBe(0);
  });
});
