/** `changeDigest`: the same change gives the same digest however its JSON is laid out; any difference that matters gives another. */
import { describe, expect, it } from 'vitest';
import { changeDigest } from '../../server/engine/digest.js';

const base = {
  collection: 'tasks',
  id: 't1',
  op: 'upsert' as const,
  data: { title: 'a', tags: ['x', 'y'], meta: { n: 1, when: null } },
  baseVersion: null,
  hlc: '20260101T000000.000Z-0000-n1',
};

describe('changeDigest', () => {
  it('is 22 base64url characters and the same for the same change, whatever the key order or undefined fields', () => {
    const d = changeDigest(base);
    expect(d).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(
      changeDigest({
        ...base,
        data: { meta: { when: null, n: 1 }, tags: ['x', 'y'], title: 'a', gone: undefined },
      }),
    ).toBe(d);
    // Absent and null base version / HLC / data are the same thing on the wire.
    expect(changeDigest({ collection: 'tasks', id: 't1', op: 'delete' })).toBe(
      changeDigest({
        collection: 'tasks',
        id: 't1',
        op: 'delete',
        data: null,
        baseVersion: null,
        hlc: null,
      }),
    );
  });

  it('differs for any difference that matters: each field, array order, nesting, value types, null against absent keys', () => {
    const d = changeDigest(base);
    const variants = [
      { ...base, collection: 'notes' },
      { ...base, id: 't2' },
      { ...base, op: 'patch' as const },
      { ...base, baseVersion: '20260101T000000.000Z-0000-n0' },
      { ...base, hlc: '20260101T000000.001Z-0000-n1' },
      { ...base, data: { ...base.data, tags: ['y', 'x'] } },
      { ...base, data: { ...base.data, tags: [['x'], 'y'] } },
      { ...base, data: { ...base.data, title: 'b' } },
      { ...base, data: { ...base.data, meta: { n: '1', when: null } } },
      { ...base, data: { ...base.data, meta: { n: 1 } } },
      { ...base, data: { ...base.data, meta: { n: 1, when: 0 } } },
      { ...base, data: { ...base.data, meta: [1, null] } },
      { ...base, data: null },
    ];
    const digests = variants.map((v) => changeDigest(v));
    for (const [i, other] of digests.entries())
      expect(other, JSON.stringify(variants[i])).not.toBe(d);
    expect(new Set(digests).size).toBe(digests.length);
  });
});
