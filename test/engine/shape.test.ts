/**
 * The raw-input guards of `server/engine/shape.ts`: `jsonSize` equals the UTF-8 length of
 * `JSON.stringify` (and passes its stop exactly when the text does), the refused keys and strings,
 * the depth limit at its boundary, shared references, and the paths every refusal names.
 */
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../shared/errors.js';
import {
  checkJsonShape,
  checkPushShape,
  forbiddenKey,
  forbiddenString,
  jsonSize,
} from '../../server/engine/shape.js';

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

/** Seeded values of every JSON kind, with strings of every width and escape. */
function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 6 : 9));
  const pieces = [
    'a',
    'é',
    '€',
    '😀',
    '"',
    '\\',
    '\n',
    '\t',
    '\b',
    '\f',
    '\r',
    '\u0001',
    '\u001f',
    '\u007f',
    ' ',
    '\ud800',
    '\udc00',
    'z',
  ];
  // Every edge of the UTF-8 widths and of the surrogate ranges.
  pieces.push(
    '\u0080',
    '\u07ff',
    '\u0800',
    '\ud7ff',
    '\ue000',
    '\uffff',
    '\udbff\udfff',
    '\udbff',
    '\udfff',
    '\ud800\udc00',
  );
  const str = () =>
    Array.from(
      { length: Math.floor(next() * 6) },
      () => pieces[Math.floor(next() * pieces.length)],
    ).join('');
  switch (pick) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return Math.round((next() - 0.5) * 1e6) / 100;
    case 3:
      return str();
    case 4:
      return Math.floor(next() * 1e9);
    case 5:
      return [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 5e-7][Math.floor(next() * 5)];
    case 6:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    case 7:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, (_, i) => [
          str() + i,
          randomValue(next, depth + 1),
        ]),
      );
    default:
      return {
        d: new Date(Math.floor(next() * 1e12)),
        u: undefined,
        f: () => 1,
        list: [undefined, () => 2, 'x'],
      };
  }
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const refusal = (fn: () => void): SyncError => {
  try {
    fn();
  } catch (error) {
    if (SyncError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('jsonSize', () => {
  it('equals the UTF-8 length of JSON.stringify for every kind of value and escape', () => {
    const cases: unknown[] = [
      null,
      true,
      false,
      0,
      -0,
      12.5,
      -1e21,
      1e-7,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      '',
      'plain',
      'quote " and \\ back',
      '\b\f\n\r\t',
      '\u0000\u0001\u001f',
      '\u007f',
      'é',
      '€',
      '😀',
      'a\ud800',
      '\udc00b',
      '\ud800\udc00',
      '\udbff',
      [],
      {},
      [1, 'a', null],
      '\u0080',
      '\u07ff',
      '\u0800',
      '\uffff',
      '\ue000',
      '\udbff\udfff',
      '\udfff',
      'x\udbff',
      { a: 1, b: [true, { c: 'd' }] },
      { 'k"é': 'v' },
      { u: undefined, f: () => 1, s: Symbol('x'), k: 1 },
      [undefined, () => 1, Symbol('y')],
      new Date(0),
      { when: new Date(1_700_000_000_000) },
      [new Date(1)],
      { toJSON: () => ({ swapped: 'yes' }) },
      { nested: { toJSON: (key: string) => `key:${key}` } },
      ['x', { toJSON: (key: string) => key }],
    ];
    for (const value of cases)
      expect(jsonSize(value, Number.MAX_SAFE_INTEGER), JSON.stringify(value)).toBe(bytes(value));
    const next = seeded(17);
    for (let i = 0; i < 2_000; i++) {
      const value = randomValue(next, 0);
      expect(jsonSize(value, Number.MAX_SAFE_INTEGER), JSON.stringify(value)).toBe(bytes(value));
    }
  });

  it('is above its stop exactly when the JSON text is', () => {
    const next = seeded(99);
    const values: unknown[] = [
      { title: 'x'.repeat(40), tags: ['é', '😀'], meta: { n: 1 } },
      ['\n'.repeat(10), 'a'],
      'é'.repeat(30),
      { a: {}, b: [] },
    ];
    for (let i = 0; i < 200; i++) values.push(randomValue(next, 0));
    for (const value of values) {
      const size = bytes(value);
      for (let stop = 0; stop <= size + 1; stop++) {
        expect(jsonSize(value, stop) > stop, `${JSON.stringify(value)} stop ${stop}`).toBe(
          size > stop,
        );
      }
    }
  });
});

describe('forbiddenKey and forbiddenString', () => {
  it('names each refused key and lets ordinary keys through', () => {
    for (const key of ['__proto__', 'constructor', 'prototype'])
      expect(forbiddenKey(key)).toBe(`the key "${key}" is not allowed`);
    expect(forbiddenKey('$set')).toMatch(/starting with \$/);
    expect(forbiddenKey('_sync_id')).toMatch(/_sync_ are reserved/);
    expect(forbiddenKey('a.b')).toMatch(/containing "\."/);
    expect(forbiddenKey('a\u0000b')).toMatch(/NUL/);
    expect(forbiddenKey('a\ud800')).toMatch(/lone surrogates/);
    expect(forbiddenKey('\udc00a')).toMatch(/lone surrogates/);
    for (const key of [
      'title',
      'a$',
      'sync_',
      '_sync',
      'proto',
      'x_sync_y',
      '😀',
      '',
      'Constructor',
    ])
      expect(forbiddenKey(key), key).toBeNull();
  });

  it('refuses NUL and lone surrogates in strings, keeps well-formed text', () => {
    expect(forbiddenString('a\u0000')).toMatch(/NUL/);
    expect(forbiddenString('\ud83d')).toMatch(/lone surrogates/);
    expect(forbiddenString('x\ude00')).toMatch(/lone surrogates/);
    for (const s of ['', 'plain', '😀', '\u0001', '\ud83d\ude00 ok'])
      expect(forbiddenString(s), s).toBeNull();
  });
});

describe('checkJsonShape', () => {
  const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });

  it('accepts objects down to maxDepth - 1 and refuses the first one at maxDepth, naming its path', () => {
    expect(() => checkJsonShape(nest(3), { maxDepth: 3, checkKeys: false })).not.toThrow(); // objects at levels 0..2
    const e = refusal(() => checkJsonShape(nest(4), { maxDepth: 3, checkKeys: false }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.issues).toEqual([
      { path: 'a.a.a', message: 'nested deeper than 3 levels (limits.maxDepth)' },
    ]);
    expect(e.message).toBe('a.a.a: nested deeper than 3 levels (limits.maxDepth)');
    // Arrays count like objects; the root itself is level 0; the shown limit and the prefix are the caller's.
    const arrays = refusal(() =>
      checkJsonShape([[[]]], {
        maxDepth: 2,
        checkKeys: false,
        prefix: 'changes.0.data',
        shownLimit: 9,
      }),
    );
    expect(arrays.issues).toEqual([
      { path: 'changes.0.data.0.0', message: 'nested deeper than 9 levels (limits.maxDepth)' },
    ]);
    expect(refusal(() => checkJsonShape({}, { maxDepth: 0, checkKeys: false })).message).toBe(
      '(root): nested deeper than 0 levels (limits.maxDepth)',
    );
    expect(() => checkJsonShape('scalar', { maxDepth: 0, checkKeys: false })).not.toThrow();
    expect(() =>
      checkJsonShape({ a: 'x', b: [1, 2] }, { maxDepth: 2, checkKeys: false }),
    ).not.toThrow();
  });

  it('refuses an object met twice, naming both paths, and accepts equal but separate values', () => {
    const shared = { x: 1 };
    const e = refusal(() =>
      checkJsonShape({ a: shared, b: { c: shared } }, { maxDepth: 10, checkKeys: false }),
    );
    expect(e.issues).toHaveLength(1);
    // The walk meets `a` first (keys in order): the refusal is at the second meeting.
    expect(e.issues[0]!.path).toBe('b.c');
    expect(e.issues[0]!.message).toContain('appears at a and at b.c');
    const root: Record<string, unknown> = {};
    root.self = root;
    expect(
      refusal(() => checkJsonShape(root, { maxDepth: 10, checkKeys: false })).issues[0]!.message,
    ).toContain('appears at (root) and at self');
    const list = [1];
    expect(
      refusal(() => checkJsonShape([list, list], { maxDepth: 10, checkKeys: false, prefix: 'p' }))
        .issues[0]!.path,
    ).toBe('p.0');
    expect(() =>
      checkJsonShape(
        { a: { x: 1 }, b: { x: 1 }, c: [[1], [1]] },
        { maxDepth: 10, checkKeys: false },
      ),
    ).not.toThrow();
    // null is a value, not an object met twice.
    expect(() =>
      checkJsonShape({ a: [null, null], b: null, c: null }, { maxDepth: 10, checkKeys: false }),
    ).not.toThrow();
  });

  it('with checkKeys: every refused key and string at any depth, with printable paths, at most 20', () => {
    const value = JSON.parse(
      '{"ok":{"__proto__":1,"list":["\\u0000",{"$bad":2}]},"s":"\\ud800","a\\u0000b":1}',
    );
    const e = refusal(() => checkJsonShape(value, { maxDepth: 10, checkKeys: true, prefix: 'd' }));
    expect(e.issues.map((i) => i.path).sort()).toEqual(
      ['d.a\\u0000b', 'd.ok.__proto__', 'd.ok.list.0', 'd.ok.list.1.$bad', 'd.s'].sort(),
    );
    expect(e.message).toMatch(/^invalid document: d\./);
    // Without checkKeys the same value passes (depth and shared references only).
    expect(() => checkJsonShape(value, { maxDepth: 10, checkKeys: false })).not.toThrow();
    const edge = 'k'.repeat(79) + '.';
    expect(
      refusal(() => checkJsonShape({ [edge]: 1 }, { maxDepth: 5, checkKeys: true })).issues[0]!
        .path,
    ).toBe(edge);
    const long = 'k'.repeat(100) + '.';
    expect(
      refusal(() => checkJsonShape({ [long]: 1 }, { maxDepth: 5, checkKeys: true })).issues[0]!
        .path,
    ).toBe(`${'k'.repeat(80)}…`);
    const many = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`$k${i}`, `v\u0000${i}`]),
    );
    expect(
      refusal(() => checkJsonShape(many, { maxDepth: 5, checkKeys: true })).issues,
    ).toHaveLength(20);
    const strings = Array.from({ length: 30 }, () => 'x\u0000');
    expect(
      refusal(() => checkJsonShape({ strings }, { maxDepth: 5, checkKeys: true })).issues,
    ).toHaveLength(20);
  });
});

describe('checkPushShape', () => {
  it("bounds the whole input at maxDepth + 3 and each change's data at maxDepth, with the keys of every change", () => {
    const data = (levels: number): unknown => (levels === 0 ? 'v' : { k: data(levels - 1) });
    const push = (...datas: unknown[]) => ({
      clientId: 'c',
      changes: datas.map((d, i) => ({
        mutationId: i + 1,
        collection: 'tasks',
        id: `t${i}`,
        op: 'upsert',
        data: d,
      })),
    });
    expect(() => checkPushShape(push(data(4)), 4)).not.toThrow();
    const deep = refusal(() => checkPushShape(push({ ok: 1 }, data(5)), 4));
    expect(deep.issues).toEqual([
      { path: 'changes.1.data.k.k.k.k', message: 'nested deeper than 4 levels (limits.maxDepth)' },
    ]);
    // A field outside the data nested deeper than maxDepth + 3 is refused too, with the configured limit shown.
    const outside = refusal(() =>
      checkPushShape({ clientId: 'c', extra: data(8), changes: [] }, 4),
    );
    expect(outside.issues[0]).toEqual({
      path: 'extra.k.k.k.k.k.k',
      message: 'nested deeper than 4 levels (limits.maxDepth)',
    });
    const keys = refusal(() =>
      checkPushShape(push({ $a: 1 }, { ok: 1 }, { b: { _sync_x: 1 } }), 4),
    );
    expect(keys.code).toBe('BAD_REQUEST');
    expect(keys.issues.map((i) => i.path)).toEqual([
      'changes.0.data.$a',
      'changes.2.data.b._sync_x',
    ]);
    expect(keys.message).toMatch(/^invalid push: changes\.0\.data\.\$a: /);
    const many = refusal(() =>
      checkPushShape(
        push(
          ...Array.from({ length: 4 }, () =>
            Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`$${i}`, 1])),
          ),
        ),
        4,
      ),
    );
    expect(many.issues).toHaveLength(50);
    for (const odd of [
      null,
      'text',
      { changes: 'no' },
      { changes: [null, { data: null }, { data: 'x' }] },
    ])
      expect(() => checkPushShape(odd, 4)).not.toThrow();
  });
});
