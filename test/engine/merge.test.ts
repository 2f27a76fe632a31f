/** Field-level LWW merge on its own: any arrival order converges, equal HLCs break ties by value, the upsert watermark drops older writes, deletes and forced deletes keep the newest HLC (kills merge.ts mutants the store suites left alive). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DELETED_KEY,
  applyDelete,
  applyPatch,
  applyUpsert,
  emptyState,
  versionOf,
  type DocState,
} from '../../server/engine/merge.js';

const hlc = (n: number, node = 'n1') =>
  `20260502T120000.000Z-${String(n).padStart(4, '0')}-${node}`;

type Op =
  | { kind: 'upsert'; data: Record<string, unknown> }
  | { kind: 'patch'; data: Record<string, unknown> }
  | { kind: 'delete' };
const apply = (state: DocState, op: Op, at: string): DocState =>
  op.kind === 'upsert'
    ? applyUpsert(state, op.data, at)
    : op.kind === 'patch'
      ? applyPatch(state, op.data, at)
      : applyDelete(state, at);
const field = fc.constantFrom('a', 'b', 'c');
const value = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y'));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.dictionary(field, value, { maxKeys: 3 }).map((data) => ({ kind: 'upsert' as const, data })),
  fc
    .dictionary(field, fc.oneof(value, fc.constant(null)), { minKeys: 1, maxKeys: 3 })
    .map((data) => ({ kind: 'patch' as const, data })),
  fc.constant({ kind: 'delete' as const }),
);
const visible = (s: DocState) => ({
  data: s.data,
  deleted: s.deleted,
  exists: s.exists,
  version: versionOf(s),
});

describe('merge', () => {
  it('converges whatever the arrival order (distinct HLCs, some equal HLCs across nodes)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(op, fc.integer({ min: 1, max: 6 }), fc.constantFrom('n1', 'n2')), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.context(),
        (ops, ctx) => {
          const stamped = ops.map(([o, n, node], i) => ({ o, at: hlc(n * 10 + i, node) }));
          const forward = stamped.reduce((s, { o, at }) => apply(s, o, at), emptyState());
          const backward = [...stamped]
            .reverse()
            .reduce((s, { o, at }) => apply(s, o, at), emptyState());
          ctx.log(JSON.stringify(stamped));
          expect(visible(backward)).toEqual(visible(forward));
          expect(forward.exists).toBe(true);
        },
      ),
      { numRuns: 400, seed: 17 },
    );
  });

  it('breaks a tie of equal HLCs by the value, the same either way', () => {
    const at = hlc(5);
    const one = applyPatch(applyPatch(emptyState(), { a: 'x' }, at), { a: 'y' }, at);
    const two = applyPatch(applyPatch(emptyState(), { a: 'y' }, at), { a: 'x' }, at);
    expect(one.data).toEqual({ a: 'y' });
    expect(two.data).toEqual({ a: 'y' });
  });

  it('a whole-document upsert removes fields older than it, and drops older writes that arrive later', () => {
    const s1 = applyPatch(emptyState(), { a: 1, b: 1 }, hlc(1));
    const s2 = applyUpsert(s1, { a: 2 }, hlc(3));
    expect(s2.data).toEqual({ a: 2 }); // b was written before the upsert
    expect(applyPatch(s2, { b: 9, c: 9 }, hlc(2)).data).toEqual({ a: 2 }); // older than the upsert: gone
    expect(applyPatch(s2, { b: 9 }, hlc(4)).data).toEqual({ a: 2, b: 9 }); // newer: kept
    const late = applyUpsert(applyPatch(s2, { c: 1 }, hlc(5)), { a: 0 }, hlc(2)); // an older upsert arriving late
    expect(late.data).toEqual({ a: 2, c: 1 });
    // A newer field survives a later-arriving upsert that does not name it.
    expect(applyUpsert(applyPatch(emptyState(), { b: 1 }, hlc(9)), { a: 1 }, hlc(8)).data).toEqual({
      a: 1,
      b: 1,
    });
  });

  it('a patch null removes the field; an older delete does not hide a newer write', () => {
    const s = applyPatch(applyUpsert(emptyState(), { a: 1, b: 2 }, hlc(1)), { b: null }, hlc(2));
    expect(s.data).toEqual({ a: 1 });
    const deletedLate = applyDelete(applyPatch(s, { a: 3 }, hlc(4)), hlc(3));
    expect(deletedLate).toMatchObject({ deleted: false, exists: true, data: { a: 3 } });
    const deleted = applyDelete(s, hlc(5));
    expect(deleted).toMatchObject({ deleted: true, exists: true });
    expect(applyUpsert(deleted, { a: 7 }, hlc(6))).toMatchObject({
      deleted: false,
      data: { a: 7 },
    });
  });

  it('a forced delete stands whatever its HLC and keeps the newest delete HLC', () => {
    const live = applyPatch(emptyState(), { a: 1 }, hlc(5));
    const forcedOld = applyDelete(live, hlc(2), true);
    expect(forcedOld.deleted).toBe(true);
    expect(forcedOld.fields[DELETED_KEY]).toBe(hlc(5)); // the register keeps its newer HLC (the patch's)
    const deletedNew = applyDelete(emptyState(), hlc(7));
    expect(applyDelete(deletedNew, hlc(3), true).fields[DELETED_KEY]).toBe(hlc(7));
    expect(applyDelete(deletedNew, hlc(9), true).fields[DELETED_KEY]).toBe(hlc(9));
    expect(applyDelete(emptyState(), hlc(4), true)).toMatchObject({ deleted: true, exists: true });
  });
});
