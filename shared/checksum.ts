/**
 * Integrity checksums, computed the same way by the server and every client: a collection's
 * checksum is the sum mod 2^64 of one 64-bit FNV-1a hash per live document over the canonical
 * JSON of `[id, version, data]` (object keys sorted, UTF-8). Deleted documents add nothing, so one
 * change updates it in O(1): subtract the document's old hash, add its new one. No Node built-ins:
 * it runs in browsers and React Native as it does on the server.
 */

/** 2^64: checksums are sums modulo it. */
const MOD = 1n << 64n;

/** The checksum of a collection that holds no live documents. */
export const EMPTY_CHECKSUM = '0000000000000000';

/**
 * JSON with object keys sorted (by UTF-16 code units, as `Array.prototype.sort` does), no spaces,
 * and otherwise exactly `JSON.stringify`'s output (numbers and string escapes included; undefined
 * object members are left out).
 */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined || typeof v === 'function') continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** Scratch buffer for the UTF-8 bytes being hashed (grown as needed; hashing is synchronous). */
let scratch = new Uint8Array(1024);

/** Writes the UTF-8 encoding of `text` into `scratch`; returns its length. Lone surrogates become U+FFFD, as TextEncoder does. */
function utf8(text: string): number {
  if (scratch.length < text.length * 3) scratch = new Uint8Array(text.length * 3);
  const buf = scratch;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[n++] = c;
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    if (c < 0x800) {
      buf[n++] = 0xc0 | (c >> 6);
    } else if (c < 0x10000) {
      buf[n++] = 0xe0 | (c >> 12);
      buf[n++] = 0x80 | ((c >> 6) & 0x3f);
    } else {
      buf[n++] = 0xf0 | (c >> 18);
      buf[n++] = 0x80 | ((c >> 12) & 0x3f);
      buf[n++] = 0x80 | ((c >> 6) & 0x3f);
    }
    buf[n++] = 0x80 | (c & 0x3f);
  }
  return n;
}

/**
 * 64-bit FNV-1a over the UTF-8 bytes of `text`, as a bigint. Four 16-bit limbs keep every
 * intermediate product below 2^53, so it needs no BigInt in the loop.
 */
export function fnv1a64(text: string): bigint {
  const n = utf8(text);
  const buf = scratch;
  // Offset basis 0xcbf29ce484222325, least significant limb first.
  let v0 = 0x2325;
  let v1 = 0x8422;
  let v2 = 0x9ce4;
  let v3 = 0xcbf2;
  for (let i = 0; i < n; i++) {
    v0 ^= buf[i]!;
    // Multiply by the prime 2^40 + 0x1b3 (mod 2^64).
    const t0 = v0 * 0x1b3;
    let t1 = v1 * 0x1b3;
    let t2 = v2 * 0x1b3 + (v0 << 8);
    const t3 = v3 * 0x1b3 + (v1 << 8);
    t1 += t0 >>> 16;
    v0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    v1 = t1 & 0xffff;
    v3 = (t3 + (t2 >>> 16)) & 0xffff;
    v2 = t2 & 0xffff;
  }
  return BigInt(((v3 << 16) | v2) >>> 0) * 0x100000000n + BigInt(((v1 << 16) | v0) >>> 0);
}

/** A live document's contribution to its collection's checksum. */
export function docHash(id: string, version: string, data: Record<string, unknown>): bigint {
  return fnv1a64(canonicalJson([id, version, data]));
}

/** `a + b` mod 2^64. */
export function addSum(a: bigint, b: bigint): bigint {
  return (a + b) % MOD;
}

/** `a - b` mod 2^64. */
export function subSum(a: bigint, b: bigint): bigint {
  return (((a - b) % MOD) + MOD) % MOD;
}

/** A checksum as sent on the wire: 16 lowercase hex digits. */
export function checksumHex(sum: bigint): string {
  return (((sum % MOD) + MOD) % MOD).toString(16).padStart(16, '0');
}

/** Reads a wire checksum back (`null` for anything that is not 16 hex digits). */
export function parseChecksum(hex: string): bigint | null {
  return /^[0-9a-f]{16}$/.test(hex) ? BigInt(`0x${hex}`) : null;
}
