/**
 * The tRPC face's guard for values JSON cannot carry. A transformer (superjson: ours or the app's)
 * can hand the procedures a BigInt, a Map, a Set, NaN…; the protocol is JSON, so such a value is
 * BAD_REQUEST naming its path (a BigInt used to reach `JSON.stringify` in the engine: a 500; a Map
 * was stored as `{}`). Values with a `toJSON` (a Date) pass: they are stored as what it gives.
 */
import { SyncError, type SyncIssue } from '../../shared/errors.js';

/** Why `value` is not a JSON value, or null (objects and arrays are looked into by the walk). */
function notJson(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined': // absent, as JSON.stringify reads it (typed clients send `hlc: undefined`)
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `must be a finite JSON number (got ${String(value)})`;
    case 'bigint':
      return 'must be a JSON number, not a BigInt';
    case 'object': {
      if (value === null || Array.isArray(value)) return null;
      const proto = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return null;
      // A Date (or any value with toJSON) travels as what its toJSON gives, as it always has.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return null;
      const name = (proto as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      return `must be a JSON value, not ${typeof name === 'string' && name ? `a ${name}` : 'a class instance'}`;
    }
    default:
      return `must be a JSON value, not a ${typeof value}`;
  }
}

/**
 * Throws BAD_REQUEST naming the first values that are not JSON (at most 20 issues). Iterative, and
 * each object is visited once (a transformer can make one object appear at many paths), so the
 * cost is linear in the distinct values received.
 */
export function checkJsonInput(input: unknown): void {
  const parents: number[] = [-1];
  const keys: string[] = [''];
  const values: unknown[] = [input];
  const seen = new WeakSet<object>();
  const issues: SyncIssue[] = [];
  const pathOf = (index: number): string => {
    const parts: string[] = [];
    for (let i = index; i > 0; i = parents[i]!) parts.push(keys[i]!);
    return parts.reverse().join('.');
  };
  const stack = [0];
  while (stack.length > 0 && issues.length < 20) {
    const index = stack.pop()!;
    const value = values[index];
    const why = notJson(value);
    if (why !== null) {
      issues.push({ path: pathOf(index), message: why });
      continue;
    }
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]] as const);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      // Scalars are checked here, without a node: only objects, arrays and refused values get one.
      if (
        typeof child === 'string' ||
        typeof child === 'boolean' ||
        child === undefined ||
        child === null ||
        (typeof child === 'number' && Number.isFinite(child))
      )
        continue;
      parents.push(index);
      keys.push(key);
      values.push(child);
      stack.push(values.length - 1);
    }
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new SyncError('BAD_REQUEST', `${first.path || '(input)'}: ${first.message}`, issues);
  }
}
