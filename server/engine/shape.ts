/**
 * Hostile-input guards that run on the raw input before anything recursive (zod, JSON.stringify,
 * merge, a store's driver): a nesting-depth limit, and the key names document data may not use.
 * Both walks are iterative, so a 100,000-deep value cannot overflow the stack here.
 */
import { SyncError, type SyncIssue } from '../../shared/errors.js';

/** Why a key is refused in document data, or null when it is allowed. */
export function forbiddenKey(key: string): string | null {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') return `the key "${key}" is not allowed`;
  if (key.startsWith('$')) return 'keys starting with $ are not allowed (reserved for database operators)';
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
 * Walks `value` iteratively. Throws BAD_REQUEST naming the first path nested deeper than
 * `maxDepth` (objects and arrays count one level each; the root value is level 0), and, when
 * `checkKeys`, every object key refused by `forbiddenKey` (own keys, so JSON's own `__proto__`
 * is seen) and every string refused by `forbiddenString`. `prefix` is prepended to reported paths.
 */
export function checkJsonShape(value: unknown, options: { maxDepth: number; checkKeys: boolean; prefix?: string; shownLimit?: number }): void {
  const prefix = options.prefix ?? '';
  const shown = options.shownLimit ?? options.maxDepth;
  const nodes: Node[] = [{ value, depth: 0, parent: -1, key: '' }];
  const stack: number[] = [0];
  const issues: SyncIssue[] = [];
  let index = 0;
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
      throw new SyncError('BAD_REQUEST', `${path || '(root)'}: nested deeper than ${shown} levels (limits.maxDepth)`, [
        { path, message: `nested deeper than ${shown} levels (limits.maxDepth)` },
      ]);
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const child = v[i];
        if (options.checkKeys && typeof child === 'string') stringIssue(child, String(i));
        if (typeof child === 'object' && child !== null) {
          nodes.push({ value: child, depth: node.depth + 1, parent: index, key: String(i) });
          stack.push(nodes.length - 1);
        }
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
          if (issues.length < 20) issues.push({ path: pathOf(nodes, nodes.length - 1, prefix), message: why });
          continue;
        }
      }
      const child = (v as Record<string, unknown>)[key];
      if (options.checkKeys && typeof child === 'string') stringIssue(child, printable(key));
      if (typeof child === 'object' && child !== null) {
        nodes.push({ value: child, depth: node.depth + 1, parent: index, key });
        stack.push(nodes.length - 1);
      }
    }
  }
  if (issues.length > 0) throw new SyncError('BAD_REQUEST', `invalid document: ${issues[0]!.path}: ${issues[0]!.message}`, issues);
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
  if (issues.length > 0) throw new SyncError('BAD_REQUEST', `invalid push: ${issues[0]!.path}: ${issues[0]!.message}`, issues.slice(0, 50));
}
