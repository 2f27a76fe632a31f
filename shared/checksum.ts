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
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const v = record[key];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * 64-bit FNV-1a over the UTF-8 bytes of `text`, as a bigint. Four 16-bit limbs keep every
 * intermediate product below 2^53, so it needs no BigInt in the loop.
 */
export function fnv1a64(text: string): bigint {
  // Offset basis 0xcbf29ce484222325, least significant limb first.
  let v0 = 0x2325;
  let v1 = 0x8422;
  let v2 = 0x9ce4;
  let v3 = 0xcbf2;
  const step = (byte: number) => {
    v0 ^= byte;
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
  };
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      step(c);
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    // A lone surrogate is encoded as U+FFFD, as TextEncoder does.
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    if (c < 0x800) {
      step(0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      step(0xe0 | (c >> 12));
      step(0x80 | ((c >> 6) & 0x3f));
    } else {
      step(0xf0 | (c >> 18));
      step(0x80 | ((c >> 12) & 0x3f));
      step(0x80 | ((c >> 6) & 0x3f));
    }
    step(0x80 | (c & 0x3f));
  }
  return (BigInt((v3 << 16) | v2) & 0xffffffffn) * 0x100000000n + BigInt(((v1 << 16) | v0) >>> 0);
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
