/** The live feed's interest test agrees with the plan's changes: `planShows` is true exactly when `planChanges` shows something. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BEFORE_WRITER_KEY, type OplogEntry } from '../../server/stores/store.js';
import { WRITER_FIELD, type Filter } from '../../server/engine/rules.js';
import { planChanges, planShows, VIEWS_MARKER, type ReadPlan } from '../../server/engine/views.js';

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

describe('planShows', () => {
  it('is true exactly when planChanges answers refresh or at least one change (seeded)', () => {
    fc.assert(
      fc.property(plan, fc.array(entry, { maxLength: 6 }), (p, raw) => {
        const entries = raw.map(
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
        );
        const changes = planChanges(p, entries);
        expect(planShows(p, entries)).toBe(changes === 'refresh' || changes.length > 0);
      }),
      { seed: 20261207, numRuns: 3000 },
    );
  });
});
