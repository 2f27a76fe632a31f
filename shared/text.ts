/**
 * Rules for strings that name things (identity claims, cursor keys): bounded, printable, well-formed.
 * PostgreSQL refuses a NUL in text and stores a lone surrogate as U+FFFD, so two different strings
 * could become one key there: such strings are refused before they reach a store.
 */

/** Longest identity claim (`userId`, `scopeId`) an actor may carry, in UTF-16 units. */
export const MAX_CLAIM_LENGTH = 256;

/** C0 controls, DEL and C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** C0 controls and DEL (what document ids may not hold). */
const CONTROL_C0 = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `value` cannot name a thing, or null: not a string, empty, over `max` UTF-16 units, holding a
 * control character (C0, DEL, C1; `c1: false` allows C1, as document ids do), or not well-formed
 * UTF-16 (a lone surrogate).
 */
export function badNameReason(
  value: unknown,
  max: number,
  options: { c1?: boolean } = {},
): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value === '') return 'must not be empty';
  if (value.length > max) return `must be at most ${max} characters`;
  if ((options.c1 === false ? CONTROL_C0 : CONTROL).test(value))
    return 'must not contain control characters';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}
