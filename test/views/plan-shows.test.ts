/** The live feed's interest test agrees with the plan's changes: `planShows` is true exactly when `planChanges` shows something. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BEFORE_WRITER_KEY, type OplogEntry } from '../../server/stores/store.js';
import { WRITER_FIELD, type Filter } from '../../server/engine/rules.js';
import { planChanges, planShows, VIEWS_MARKER, type ReadPlan } from '../../server/engine/views.js';
import { DispatchIndex, planKeys } from '../../server/engine/dispatch.js';

const users = ['ann', 'bob', 'cyd'];
const values = ['a', 'b', null];
const image = fc.record({ owner: fc.constantFrom(...values), team: fc.constantFrom(...values) });

const entry = fc.record({
  collection: fc.constantFrom('tasks', 'parts', 'notes', VIEWS_MARKER),
  id: fc.constantFrom('x', 'y', ...users),
  op: fc.constantFrom('upsert' as const, 'delete' as const),
  data: image,
  before: fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc
      .tuple(image, fc.option(fc.constantFrom(...users)))
      .map(([data, writer]) => (writer ? { ...data, [BEFORE_WRITER_KEY]: writer } : data)),
  ),
  actor: fc.constantFrom(...users),
});

const filter: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ owner: fc.constantFrom(...values) }),
  fc.record({ team: fc.record({ in: fc.subarray(['a', 'b']) }) }),
  fc.constantFrom(...users).map((u) => ({ [WRITER_FIELD]: u })),
  fc.constant({}),
  fc.record({ owner: fc.constantFrom(...values), team: fc.constantFrom('a', 'b') }),
);

const plan: fc.Arbitrary<ReadPlan> = fc
  .record({
    // No filter at all: a ruled collection no default view names (only own writes leave it).
    tasks: fc.oneof(fc.constant('all' as const), fc.array(filter, { minLength: 0, maxLength: 2 })),
    parts: fc.option(fc.constant('all' as const)),
    view: fc.boolean(),
    watchRefresh: fc.boolean(),
    userId: fc.constantFrom(...users),
  })
  .map((p) => {
    const specs = new Map<string, 'all' | Filter[]>([['tasks', p.tasks]]);
    if (p.parts) specs.set('parts', p.parts);
    return {
      specs,
      view: p.view ? { rule: 'r', collection: 'tasks', filter: {}, key: 'r' } : null,
      watchRefresh: p.watchRefresh,
      userId: p.userId,
    } as unknown as ReadPlan;
  });

/** Random entries as the oplog gives them (one commit). */
const oplog = fc.array(entry, { maxLength: 6 }).map((raw) =>
  raw.map(
    (e, idx) =>
      ({
        ...e,
        data: e.op === 'delete' ? null : e.data,
        scope: 's',
        seq: 1,
        idx,
        version: `v${idx}`,
        clientId: null,
        mutationId: null,
        at: new Date(0),
      }) as OplogEntry,
  ),
);

describe('planShows', () => {
  it('the dispatch index finds every plan a commit shows something: its candidates are a superset (seeded)', () => {
    let indexed = 0;
    let shown = 0;
    let skipped = 0;
    fc.assert(
      fc.property(fc.array(plan, { minLength: 1, maxLength: 5 }), oplog, (plans, list) => {
        const index = new DispatchIndex<number>();
        plans.forEach((p, i) => {
          const keys = planKeys(p);
          if (keys) index.add(i, keys);
        });
        const candidates = index.candidates(list);
        plans.forEach((p, i) => {
          if (!index.has(i)) return;
          indexed++;
          if (planShows(p, list)) {
            shown++;
            expect(candidates.has(i)).toBe(true);
          } else if (!candidates.has(i)) skipped++;
        });
        // Removing a plan takes it out of every answer.
        plans.forEach((_, i) => index.remove(i));
        expect(index.size).toBe(0);
        expect(index.candidates(list).size).toBe(0);
      }),
      { seed: 20261207, numRuns: 3000 },
    );
    // The index does its job: plans that see nothing are mostly passed over without their test.
    expect(indexed).toBeGreaterThan(1000);
    expect(shown).toBeGreaterThan(100);
    expect(skipped).toBeGreaterThan(100);
  });

  it('is true exactly when planChanges answers refresh or at least one change (seeded)', () => {
    fc.assert(
      fc.property(plan, oplog, (p, entries) => {
        const changes = planChanges(p, entries);
        expect(planShows(p, entries)).toBe(changes === 'refresh' || changes.length > 0);
      }),
      { seed: 20261207, numRuns: 3000 },
    );
  });
});
