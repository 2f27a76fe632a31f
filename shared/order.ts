/**
 * The one order of ids and strings in every store, client and server: Unicode code point order,
 * which is the byte order of their UTF-8 encoding. PostgreSQL (`COLLATE "C"`), MongoDB and SQLite
 * (`BINARY`) compare UTF-8 bytes natively, with their indexes; JavaScript's `<` compares UTF-16
 * code units instead, which disagrees exactly where a BMP character above the surrogates
 * (U+E000–U+FFFF, e.g. `！` U+FF01) meets an astral one (U+10000 and up, e.g. 😀, stored as two
 * surrogates D800–DFFF): code points put the astral one last. Stores that compare in JavaScript
 * (memory, key-value, queries) use `compareStrings`; IndexedDB, which can only compare keys by
 * UTF-16 code units, is given `codePointKey(id)`.
 */

/** A UTF-16 unit moved so that unit order is code point order: surrogates above U+E000–U+FFFF. */
function fixup(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Compares two strings in code point order (UTF-8 byte order): negative, 0 or positive.
 *
 * @example
 * ['😀', '\uff01', 'a'].sort(compareStrings); // ['a', '！', '😀'] (JavaScript's sort() gives ['a', '😀', '！'])
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Below U+D800 both orders agree; only two units both from D800–FFFF need moving.
    if (x >= 0xd800 && y >= 0xd800) {
      x = fixup(x);
      y = fixup(y);
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

/**
 * A string whose UTF-16 order (JavaScript's `<`, IndexedDB keys) is the code point order of `s`:
 * each unit from D800–FFFF moved as in `compareStrings`. One-to-one, so distinct ids keep distinct keys.
 */
export function codePointKey(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0xd800) {
      let out = s.slice(0, i);
      for (let j = i; j < s.length; j++) {
        const unit = s.charCodeAt(j);
        out += String.fromCharCode(unit >= 0xd800 ? fixup(unit) : unit);
      }
      return out;
    }
  }
  return s;
}
