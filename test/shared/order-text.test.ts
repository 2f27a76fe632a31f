/**
 * `shared/order.ts` against UTF-8 byte order (what PostgreSQL `COLLATE "C"`, MongoDB and SQLite
 * compare) on seeded strings from every range, and `shared/text.ts`'s name rules at their edges.
 */
import { describe, expect, it } from 'vitest';
import { codePointKey, compareStrings } from '../../shared/order.js';
import { badNameReason, MAX_CLAIM_LENGTH } from '../../shared/text.js';

/** Seeded well-formed strings mixing ASCII, BMP below and above the surrogates, and astral characters. */
function strings(seed: number, count: number): string[] {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0), s / 2 ** 32);
  const chars = [
    'a',
    'b',
    'z',
    '\u0000',
    '\u007f',
    'é',
    '\u07ff',
    '\u0800',
    '\ud7ff',
    '\ue000',
    '\uff01',
    '\uffff',
    '😀',
    '\u{10000}',
    '\u{10ffff}',
    '中',
  ];
  return Array.from({ length: count }, () =>
    Array.from(
      { length: Math.floor(next() * 5) },
      () => chars[Math.floor(next() * chars.length)],
    ).join(''),
  );
}
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const utf8 = (a: string, b: string) =>
  sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('compareStrings and codePointKey', () => {
  it('order every pair as UTF-8 bytes do, and codePointKey keeps that order under plain < and stays one-to-one', () => {
    const list = strings(7, 300);
    const keys = new Map<string, string>();
    for (const a of list) {
      for (const b of list) {
        const expected = utf8(a, b);
        expect(sign(compareStrings(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(
          expected,
        );
        const ka = codePointKey(a);
        const kb = codePointKey(b);
        expect(
          ka < kb ? -1 : ka > kb ? 1 : 0,
          `keys of ${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
        ).toBe(expected);
      }
      const key = codePointKey(a);
      if (keys.has(key)) expect(keys.get(key)).toBe(a);
      keys.set(key, a);
    }
  });

  it("puts an astral character after U+E000–U+FFFF, where JavaScript's sort does not", () => {
    expect(['😀', '\uff01', 'a'].sort(compareStrings)).toEqual(['a', '\uff01', '😀']);
    expect(compareStrings('\ue000', '\ud7ff')).toBe(1);
    expect(compareStrings('a', 'ab')).toBe(-1);
    expect(compareStrings('ab', 'a')).toBe(1);
    expect(compareStrings('same', 'same')).toBe(0);
    expect(codePointKey('plain ascii')).toBe('plain ascii');
    expect(codePointKey('a\ud7ff')).toBe('a\ud7ff');
    expect(codePointKey('ab\uff01c')).not.toBe('ab\uff01c');
    expect(codePointKey('ab\uff01c').startsWith('ab')).toBe(true);
    // Each unit from D800–FFFF moved, the others kept, nothing added.
    expect(codePointKey('ab\uff01c')).toBe('ab\uf701c');
    expect(codePointKey('x\ud83d\ude00')).toBe('x\uf83d\ufe00');
  });
});

describe('badNameReason', () => {
  it('refuses non-strings, empty, over-long, control characters and lone surrogates, each with its reason', () => {
    expect(badNameReason(5, 10)).toBe('must be a string');
    expect(badNameReason(null, 10)).toBe('must be a string');
    expect(badNameReason('', 10)).toBe('must not be empty');
    expect(badNameReason('x'.repeat(10), 10)).toBeNull();
    expect(badNameReason('x'.repeat(11), 10)).toBe('must be at most 10 characters');
    for (const c of ['\u0000', '\u001f', '\u007f', '\u0080', '\u009f'])
      expect(badNameReason(`a${c}`, 10), c).toBe('must not contain control characters');
    expect(badNameReason('a\u00a0', 10)).toBeNull();
    expect(badNameReason('a\ud800', 10)).toBe('must be well-formed Unicode (no lone surrogates)');
    expect(badNameReason('\udc00a', 10)).toBe('must be well-formed Unicode (no lone surrogates)');
    expect(badNameReason('😀', 10)).toBeNull();
    expect(MAX_CLAIM_LENGTH).toBe(256);
  });

  it('c1: false allows C1 controls (as document ids do) but still refuses C0 and DEL', () => {
    expect(badNameReason('a\u0085', 10, { c1: false })).toBeNull();
    expect(badNameReason('a\u009f', 10, { c1: false })).toBeNull();
    expect(badNameReason('a\u0001', 10, { c1: false })).toBe('must not contain control characters');
    expect(badNameReason('a\u007f', 10, { c1: false })).toBe('must not contain control characters');
    expect(badNameReason('a\u0085', 10, { c1: true })).toBe('must not contain control characters');
  });
});
