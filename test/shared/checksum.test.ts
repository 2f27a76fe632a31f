/**
 * shared/checksum.ts against independent references: FNV-1a 64 computed with BigInt over
 * TextEncoder's UTF-8 bytes, canonical JSON as `JSON.stringify` of a key-sorted copy, and the
 * mod-2^64 sum and wire format at their edges. The conformance suite computes checksums with these
 * same functions on both sides, so only a reference outside them catches a wrong hash.
 */
import { describe, expect, it } from 'vitest';
import {
  addSum,
  canonicalJson,
  checksumHex,
  docHash,
  EMPTY_CHECKSUM,
  fnv1a64,
  parseChecksum,
  subSum,
} from '../../shared/checksum.js';
import { mulberry32 } from '../mulberry32.js';

const MOD = 1n << 64n;

/** FNV-1a 64 the textbook way: BigInt state, TextEncoder bytes (lone surrogates become U+FFFD). */
function referenceFnv(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) % MOD;
  }
  return h;
}

/** `JSON.stringify` of a copy whose object keys are inserted in sorted order. */
function referenceCanonical(value: unknown): string {
  const sortDeep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortDeep);
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort())
      out[key] = sortDeep((v as Record<string, unknown>)[key]);
    return out;
  };
  return JSON.stringify(sortDeep(value)) ?? 'null';
}

const prng = mulberry32;

/** UTF-16 code units at every UTF-8 length boundary, surrogates (paired and lone) included. */
const EDGE_UNITS = [
  0x00, 0x01, 0x41, 0x7f, 0x80, 0x81, 0xff, 0x100, 0x7ff, 0x800, 0x801, 0xfff, 0x1000, 0xd7ff,
  0xd800, 0xd801, 0xdbff, 0xdc00, 0xdc01, 0xdfff, 0xe000, 0xe001, 0xfffd, 0xfffe, 0xffff,
];

function randomText(rand: () => number, maxLength: number): string {
  const length = Math.floor(rand() * maxLength);
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = rand();
    if (r < 0.5) out += String.fromCharCode(EDGE_UNITS[Math.floor(rand() * EDGE_UNITS.length)]!);
    else if (r < 0.7) out += String.fromCodePoint(0x10000 + Math.floor(rand() * 0x100000));
    else out += String.fromCharCode(Math.floor(rand() * 0x10000));
  }
  return out;
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.4) {
    const pick = Math.floor(rand() * 8);
    if (pick === 0) return null;
    if (pick === 1) return rand() < 0.5;
    if (pick === 2) return Math.floor(rand() * 2000) - 1000;
    if (pick === 3) return rand() * 1e6;
    if (pick === 4) return undefined;
    return randomText(rand, 8);
  }
  if (r < 0.7)
    return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth - 1));
  const out: Record<string, unknown> = {};
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) out[randomText(rand, 4)] = randomValue(rand, depth - 1);
  return out;
}

describe('fnv1a64', () => {
  it('gives the published FNV-1a 64 test vectors', () => {
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
  });

  it('hashes each UTF-8 length boundary and surrogate case as TextEncoder encodes it', () => {
    for (const unit of EDGE_UNITS) {
      for (const text of [
        String.fromCharCode(unit),
        `x${String.fromCharCode(unit)}`,
        `${String.fromCharCode(unit)}y`,
        `${String.fromCharCode(unit)}${String.fromCharCode(0xdc00)}`,
        `${String.fromCharCode(unit)}${String.fromCharCode(0xdfff)}`,
        `${String.fromCharCode(unit)}${String.fromCharCode(0xe000)}`,
        `${String.fromCharCode(unit)}${String.fromCharCode(0xdbff)}`,
      ]) {
        expect(fnv1a64(text), `U+${unit.toString(16)}: ${JSON.stringify(text)}`).toBe(
          referenceFnv(text),
        );
      }
    }
    for (const cp of [0x10000, 0x10001, 0x1f600, 0xfffff, 0x100000, 0x10ffff]) {
      const text = String.fromCodePoint(cp);
      expect(fnv1a64(text), `U+${cp.toString(16)}`).toBe(referenceFnv(text));
    }
  });

  it('matches the reference on 2,000 seeded strings, long ones (past the scratch buffer) included', () => {
    const rand = prng(20261207);
    for (let i = 0; i < 2000; i++) {
      const text = randomText(rand, i % 50 === 0 ? 1500 : 40);
      expect(fnv1a64(text), `case ${i}`).toBe(referenceFnv(text));
    }
    // A long text of 4-byte characters, then a short one reusing the grown buffer.
    const long = '\u{1f600}'.repeat(700);
    expect(fnv1a64(long)).toBe(referenceFnv(long));
    expect(fnv1a64('é')).toBe(referenceFnv('é'));
  });

  it('grows its buffer for a text of 3-byte characters just past 1,024 bytes', () => {
    for (const length of [341, 342, 343, 400]) {
      const text = '\u0800'.repeat(length);
      expect(fnv1a64(text), `length ${length}`).toBe(referenceFnv(text));
    }
  });
});

describe('canonicalJson', () => {
  it('is JSON.stringify with object keys sorted, at every depth', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: 2 }] })).toBe(
      '{"a":[true,null,{"c":2,"d":"x"}],"b":1}',
    );
    expect(canonicalJson({ z: 1 })).toBe('{"z":1}');
    expect(canonicalJson({})).toBe('{}');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson([1])).toBe('[1]');
    expect(canonicalJson([1, 2, 3])).toBe('[1,2,3]');
    expect(canonicalJson({ B: 1, a: 2, _: 3, '10': 4, '9': 5 })).toBe(
      '{"10":4,"9":5,"B":1,"_":3,"a":2}',
    );
  });

  it('writes undefined and functions in arrays as null and leaves them out of objects, as JSON.stringify does', () => {
    const fn = () => 1;
    expect(canonicalJson([undefined, fn, 1])).toBe('[null,null,1]');
    expect(canonicalJson({ a: undefined, b: 1, c: fn })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({ b: 1, a: undefined })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined })).toBe('{}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson('a"b\u2028\ud800')).toBe(JSON.stringify('a"b\u2028\ud800'));
    expect(canonicalJson({ 'k"\n': 'v' })).toBe('{"k\\"\\n":"v"}');
  });

  it('matches the reference on 2,000 seeded values', () => {
    const rand = prng(7);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(rand, 4);
      expect(canonicalJson(value), `case ${i}`).toBe(referenceCanonical(value));
    }
  });
});

describe('docHash and the mod 2^64 sums', () => {
  it('hashes the canonical JSON of [id, version, data]', () => {
    const data = { title: 'é', n: 1, tags: ['a'] };
    expect(docHash('doc-1', 'v1', data)).toBe(
      referenceFnv('["doc-1","v1",{"n":1,"tags":["a"],"title":"é"}]'),
    );
    expect(docHash('doc-1', 'v2', data)).not.toBe(docHash('doc-1', 'v1', data));
  });

  it('adds and subtracts modulo 2^64', () => {
    expect(addSum(1n, 2n)).toBe(3n);
    expect(addSum(MOD - 1n, 1n)).toBe(0n);
    expect(addSum(MOD - 1n, MOD - 1n)).toBe(MOD - 2n);
    expect(subSum(5n, 3n)).toBe(2n);
    expect(subSum(0n, 1n)).toBe(MOD - 1n);
    expect(subSum(3n, 5n)).toBe(MOD - 2n);
    expect(subSum(0n, MOD - 1n)).toBe(1n);
    expect(subSum(7n, 7n)).toBe(0n);
    const a = referenceFnv('a');
    const b = referenceFnv('b');
    expect(subSum(addSum(a, b), b)).toBe(a);
  });

  it('writes a checksum as 16 lowercase hex digits, reduced mod 2^64, and reads back only that form', () => {
    expect(EMPTY_CHECKSUM).toBe('0000000000000000');
    expect(checksumHex(0n)).toBe(EMPTY_CHECKSUM);
    expect(checksumHex(1n)).toBe('0000000000000001');
    expect(checksumHex(0xabcdefn)).toBe('0000000000abcdef');
    expect(checksumHex(MOD - 1n)).toBe('ffffffffffffffff');
    expect(checksumHex(MOD)).toBe(EMPTY_CHECKSUM);
    expect(checksumHex(MOD + 5n)).toBe('0000000000000005');
    expect(checksumHex(-1n)).toBe('ffffffffffffffff');
    expect(checksumHex(-MOD - 2n)).toBe('fffffffffffffffe');
    expect(parseChecksum('0000000000000000')).toBe(0n);
    expect(parseChecksum('ffffffffffffffff')).toBe(MOD - 1n);
    expect(parseChecksum('0123456789abcdef')).toBe(0x0123456789abcdefn);
    for (const bad of [
      '',
      'FFFFFFFFFFFFFFFF',
      '000000000000000',
      '00000000000000000',
      'x0000000000000000',
      '0000000000000000x',
      '000000000000000g',
    ]) {
      expect(parseChecksum(bad), bad).toBeNull();
    }
  });
});
