/**
 * `matches` (server/engine/rules.ts) on `{ in }` lists short and long: a long list is matched
 * through a Set built once per list, which must answer exactly as the plain scan (a missing field
 * counts as null; `1` is not `'1'`; `false` is not `null`), on seeded lists and documents.
 */
import { describe, expect, it } from 'vitest';
import { matches, type Filter } from '../../server/engine/rules.js';
import { mulberry32 } from '../mulberry32.js';

type Scalar = string | number | boolean | null;
const POOL: Scalar[] = [null, true, false, 0, 1, 2, -1, 1.5, '', '0', '1', 'a', 'b', 'ann', 'bob'];

/** The reference: a plain scan with the documented equality. */
const reference = (list: readonly Scalar[], data: Record<string, unknown>, field: string) => {
  const value = Object.hasOwn(data, field) ? data[field] : undefined;
  return list.some((w) => (w === null ? value === null || value === undefined : value === w));
};

describe('matches with { in } lists', () => {
  it('answers as a plain scan for lists of 0 to 60 values, short (scanned) and long (Set), seeded', () => {
    const seed = 20261207;
    const random = mulberry32(seed);
    const pick = () => POOL[Math.floor(random() * POOL.length)]!;
    let checked = 0;
    for (let round = 0; round < 400; round++) {
      const length = Math.floor(random() * 61);
      // Long lists also get many values outside the pool, as a membership list would.
      const list: Scalar[] = Array.from({ length }, (_, i) =>
        random() < 0.5 ? pick() : `p${Math.floor(random() * 1_000)}-${i % 7}`,
      );
      const filter: Filter = { projectId: { in: list } };
      for (let d = 0; d < 20; d++) {
        const data: Record<string, unknown> =
          random() < 0.15
            ? {}
            : {
                projectId:
                  random() < 0.3 && length > 0 ? list[Math.floor(random() * length)] : pick(),
              };
        expect(
          matches(filter, data),
          `seed ${seed}, round ${round}: ${JSON.stringify({ list, data })}`,
        ).toBe(reference(list, data, 'projectId'));
        checked++;
      }
    }
    expect(checked).toBe(8_000);
  });

  it('a long list: null in it takes a missing field, 1 is not "1", false is not null; the same list matched again answers the same', () => {
    const list: Scalar[] = [...Array.from({ length: 30 }, (_, i) => `p${i}`), 1, false];
    const filter: Filter = { projectId: { in: list } };
    expect(matches(filter, { projectId: 'p29' })).toBe(true);
    expect(matches(filter, { projectId: 1 })).toBe(true);
    expect(matches(filter, { projectId: '1' })).toBe(false);
    expect(matches(filter, { projectId: false })).toBe(true);
    expect(matches(filter, { projectId: null })).toBe(false);
    expect(matches(filter, {})).toBe(false);
    const withNull: Filter = { projectId: { in: [...list, null] } };
    expect(matches(withNull, {})).toBe(true);
    expect(matches(withNull, { projectId: null })).toBe(true);
    // Matched again through the kept Set, and through an equal list that is another object.
    expect(matches(filter, { projectId: 'p0' })).toBe(true);
    expect(matches({ projectId: { in: [...list] } }, { projectId: 'p30' })).toBe(false);
    // Every field must match: the long list next to an equality.
    expect(matches({ ...filter, team: 'red' }, { projectId: 'p3', team: 'red' })).toBe(true);
    expect(matches({ ...filter, team: 'red' }, { projectId: 'p3', team: 'blue' })).toBe(false);
  });
});
