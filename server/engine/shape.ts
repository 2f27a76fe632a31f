/**
 * Hostile-input guards that run on the raw input before anything recursive (zod, JSON.stringify,
 * merge, a store's driver): a nesting-depth limit, shared references (a value a request could not
 * have spelled out in JSON), the key names document data may not use, and a JSON size count that
 * stops at its limit. Every walk is iterative, so a 100,000-deep value cannot overflow the stack here.
 */
import { SyncError, type SyncIssue } from '../../shared/errors.js';

/** Why a key is refused in document data, or null when it is allowed. */
export function forbiddenKey(key: string): string | null {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype')
    return `the key "${key}" is not allowed`;
  if (key.startsWith('$'))
    return 'keys starting with $ are not allowed (reserved for database operators)';
  if (key.startsWith('_sync_')) return 'keys starting with _sync_ are reserved for sync metadata';
  if (key.includes('.')) return 'keys containing "." are not allowed (read as paths by databases)';
  if (key.includes('\u0000')) return 'keys containing NUL are not allowed';
  if (LONE_SURROGATE.test(key)) return 'keys must be well-formed Unicode (no lone surrogates)';
  return null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string value is refused in document data (PostgreSQL's jsonb stores neither NUL nor lone surrogates), or null. */
export function forbiddenString(value: string): string | null {
  if (value.includes('\u0000')) return 'strings may not contain NUL (\\u0000)';
  if (LONE_SURROGATE.test(value)) return 'strings must be well-formed Unicode (no lone surrogates)';
  return null;
}

interface Node {
  value: unknown;
  depth: number;
  parent: number;
  key: string;
}

function pathOf(nodes: Node[], index: number, prefix: string): string {
  const parts: string[] = [];
  for (let i = index; i > 0; i = nodes[i]!.parent) parts.push(nodes[i]!.key);
  parts.reverse();
  const tail = parts.join('.');
  return prefix && tail ? `${prefix}.${tail}` : prefix || tail;
}

/**
 * Walks `value` iteratively. Throws BAD_REQUEST naming the first object or array met a second time
 * (superjson's `referentialEqualities`, or a server caller, can make `a.b` and `a.c` the same object
 * at every level: 2^depth paths from a few KB, so every later walk would be exponential; the walk
 * here visits each object once, so it is linear in what was received), the first path nested deeper than
 * `maxDepth` (objects and arrays count one level each; the root value is level 0), and, when
 * `checkKeys`, every object key refused by `forbiddenKey` (own keys, so JSON's own `__proto__`
 * is seen) and every string refused by `forbiddenString`. `prefix` is prepended to reported paths.
 */
export function checkJsonShape(
  value: unknown,
  options: { maxDepth: number; checkKeys: boolean; prefix?: string; shownLimit?: number },
): void {
  const prefix = options.prefix ?? '';
  const shown = options.shownLimit ?? options.maxDepth;
  const nodes: Node[] = [{ value, depth: 0, parent: -1, key: '' }];
  const stack: number[] = [0];
  const issues: SyncIssue[] = [];
  let index = 0;
  // Where each object was first met, so a second meeting names both paths.
  const seen = new Map<object, number>();
  if (typeof value === 'object' && value !== null) seen.set(value, 0);
  const visit = (child: object, key: string) => {
    const first = seen.get(child);
    nodes.push({ value: child, depth: nodes[index]!.depth + 1, parent: index, key });
    if (first !== undefined)
      throw sharedReference(pathOf(nodes, nodes.length - 1, prefix), pathOf(nodes, first, prefix));
    seen.set(child, nodes.length - 1);
    stack.push(nodes.length - 1);
  };
  const stringIssue = (s: string, key: string) => {
    const why = forbiddenString(s);
    if (why === null || issues.length >= 20) return;
    nodes.push({ value: null, depth: 0, parent: index, key });
    issues.push({ path: pathOf(nodes, nodes.length - 1, prefix), message: why });
  };
  while (stack.length > 0) {
    index = stack.pop()!;
    const node = nodes[index]!;
    const v = node.value;
    if (typeof v !== 'object' || v === null) continue;
    if (node.depth >= options.maxDepth) {
      const path = pathOf(nodes, index, prefix);
      throw new SyncError(
        'BAD_REQUEST',
        `${path || '(root)'}: nested deeper than ${shown} levels (limits.maxDepth)`,
        [{ path, message: `nested deeper than ${shown} levels (limits.maxDepth)` }],
      );
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const child = v[i];
        if (options.checkKeys && typeof child === 'string') stringIssue(child, String(i));
        if (typeof child === 'object' && child !== null) visit(child, String(i));
      }
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (options.checkKeys) {
        const why = forbiddenKey(key);
        if (why !== null) {
          nodes.push({ value: null, depth: node.depth + 1, parent: index, key: printable(key) });
          if (issues.length < 20)
            issues.push({ path: pathOf(nodes, nodes.length - 1, prefix), message: why });
          continue;
        }
      }
      const child = (v as Record<string, unknown>)[key];
      if (options.checkKeys && typeof child === 'string') stringIssue(child, printable(key));
      if (typeof child === 'object' && child !== null) visit(child, key);
    }
  }
  if (issues.length > 0)
    throw new SyncError(
      'BAD_REQUEST',
      `invalid document: ${issues[0]!.path}: ${issues[0]!.message}`,
      issues,
    );
}

/** BAD_REQUEST for an object or array met twice (`path` the second meeting, `first` the first). */
function sharedReference(path: string, first: string): SyncError {
  const message = `the same object appears at ${first || '(root)'} and at ${path}: shared references are not accepted (send each value once, as JSON would)`;
  return new SyncError('BAD_REQUEST', `${path || '(root)'}: ${message}`, [{ path, message }]);
}

/** A key as it can be shown in a path (NUL made visible, very long keys cut). */
function printable(key: string): string {
  const shown = key.replace(/\u0000/g, '\\u0000');
  return shown.length > 80 ? `${shown.slice(0, 80)}…` : shown;
}

/**
 * Guards a push (or server write) input before zod sees it: the whole input within
 * `maxDepth + 3` levels (document data sits at `changes.N.data`), and the keys of every
 * change's data checked at any depth.
 */
export function checkPushShape(input: unknown, maxDepth: number): void {
  // Nothing recursive has run yet: depth first over the whole input, so even non-data fields are bounded.
  checkJsonShape(input, { maxDepth: maxDepth + 3, checkKeys: false, shownLimit: maxDepth });
  const changes = (input as { changes?: unknown } | null)?.changes;
  if (!Array.isArray(changes)) return;
  const issues: SyncIssue[] = [];
  changes.forEach((change, i) => {
    const data = (change as { data?: unknown } | null)?.data;
    if (typeof data !== 'object' || data === null) return;
    try {
      checkJsonShape(data, { maxDepth, checkKeys: true, prefix: `changes.${i}.data` });
    } catch (error) {
      if (!SyncError.is(error)) throw error;
      issues.push(...error.issues);
    }
  });
  if (issues.length > 0)
    throw new SyncError(
      'BAD_REQUEST',
      `invalid push: ${issues[0]!.path}: ${issues[0]!.message}`,
      issues.slice(0, 50),
    );
}

/** Characters JSON text holds as they are: printable ASCII except `"` and `\`. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** UTF-8 bytes of a string's JSON text (quotes and escapes included), as `JSON.stringify` writes it. */
function stringBytes(s: string): number {
  if (PLAIN_ASCII.test(s)) return s.length + 2;
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (
      c === 0x22 ||
      c === 0x5c ||
      c === 0x08 ||
      c === 0x09 ||
      c === 0x0a ||
      c === 0x0c ||
      c === 0x0d
    )
      n += 2;
    else if (c < 0x20) n += 6;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (
      c >= 0xd800 &&
      c <= 0xdbff &&
      i + 1 < s.length &&
      (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      n += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff)
      n += 6; // a lone surrogate is written as \udxxx
    else n += 3;
  }
  return n;
}

/**
 * The UTF-8 size of `JSON.stringify(value)`, counted by one iterative walk that stops as soon as
 * the count passes `stopAbove` (the answer is then some number above it), so the cost is bounded
 * by the limit and by what was received, never by an expanded tree. Exact for JSON values (plain
 * objects, arrays, strings, finite numbers, booleans, null); `toJSON` (Date) is followed, and
 * `undefined`, functions and symbols are left out or written as `null` like `JSON.stringify` does.
 */
export function jsonSize(value: unknown, stopAbove: number): number {
  let total = 0;
  // Each entry is a value to count; `inArray` says whether a dropped value is written as null.
  const stack: { value: unknown; inArray: boolean; key: string }[] = [
    { value, inArray: true, key: '' },
  ];
  while (stack.length > 0) {
    if (total > stopAbove) return total;
    const entry = stack.pop()!;
    let v = entry.value;
    if (
      v !== null &&
      (typeof v === 'object' || typeof v === 'bigint') &&
      typeof (v as { toJSON?: unknown }).toJSON === 'function'
    ) {
      v = (v as { toJSON(key: string): unknown }).toJSON(entry.key);
    }
    switch (typeof v) {
      case 'string':
        total += total + v.length + 2 > stopAbove ? v.length + 2 : stringBytes(v);
        continue;
      case 'number':
        total += Number.isFinite(v) ? String(v).length : 4;
        continue;
      case 'boolean':
        total += v ? 4 : 5;
        continue;
      case 'bigint':
        total += String(v).length;
        continue;
      case 'undefined':
      case 'function':
      case 'symbol':
        if (entry.inArray) total += 4;
        continue;
    }
    if (v === null) {
      total += 4;
      continue;
    }
    if (Array.isArray(v)) {
      total += 2 + Math.max(0, v.length - 1);
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], inArray: true, key: String(i) });
      continue;
    }
    total += 2;
    let written = 0;
    for (const key of Object.keys(v as object)) {
      const child = (v as Record<string, unknown>)[key];
      if (child === undefined || typeof child === 'function' || typeof child === 'symbol') continue;
      total += (written++ > 0 ? 1 : 0) + stringBytes(key) + 1;
      stack.push({ value: child, inArray: false, key });
      if (total > stopAbove) return total;
    }
  }
  return total;
}
