/**
 * `server/engine/validate.ts` on its own: every limit at its boundary, each refusal naming its
 * field, PAYLOAD_TOO_LARGE before BAD_REQUEST, and what a valid change is handed on with.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SyncError } from '../../shared/errors.js';
import type { ChangeInput } from '../../shared/protocol.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { DEFAULT_LIMITS } from '../../server/engine/options.js';
import type { SyncLimits } from '../../server/engine/types.js';
import {
  badIdReason,
  checkCollections,
  exceedsBytes,
  jsonBytes,
  pageLimit,
  parseInput,
  parsePushInput,
  validateChanges,
} from '../../server/engine/validate.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
  notes: z.object({ body: z.string() }),
});
const limits: SyncLimits = {
  ...DEFAULT_LIMITS,
  maxChangesPerPush: 3,
  maxDocumentBytes: 40,
  maxIdLength: 5,
  maxDepth: 4,
};

const refusal = (fn: () => unknown): SyncError => {
  try {
    fn();
  } catch (error) {
    if (SyncError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};
const up = (mutationId: number, id: string, data: unknown, collection = 'tasks'): ChangeInput =>
  ({ mutationId, collection, id, op: 'upsert', data }) as ChangeInput;

describe('validateChanges', () => {
  it('takes maxChangesPerPush changes and refuses one more with PAYLOAD_TOO_LARGE', () => {
    const three = [
      up(1, 'a', { title: 'x' }),
      up(2, 'b', { title: 'x' }),
      up(3, 'c', { title: 'x' }),
    ];
    expect(validateChanges(three, schema, limits, true)).toHaveLength(3);
    const e = refusal(() =>
      validateChanges([...three, up(4, 'd', { title: 'x' })], schema, limits, true),
    );
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(e.issues).toEqual([{ path: 'changes', message: 'at most 3 changes per push' }]);
    expect(e.message).toContain('got 4');
  });

  it('hands on parsed data: defaults filled for an upsert, the patch as sent, null for a delete', () => {
    const out = validateChanges(
      [
        up(1, 'a', { title: 'x' }),
        { mutationId: 2, collection: 'tasks', id: 'a', op: 'patch', data: { done: true } },
        { mutationId: 3, collection: 'notes', id: 'n', op: 'delete' },
      ],
      schema,
      limits,
      true,
    );
    expect(out.map((c) => c.parsed)).toEqual([{ title: 'x', done: false }, { done: true }, null]);
    expect(out.map((c) => c.mutationId)).toEqual([1, 2, 3]);
  });

  it('requires strictly increasing mutation ids only when asked', () => {
    const same = [
      up(2, 'a', { title: 'x' }),
      up(2, 'b', { title: 'x' }),
      up(1, 'c', { title: 'x' }),
    ];
    const e = refusal(() => validateChanges(same, schema, limits, true));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.issues.map((i) => i.path)).toEqual(['changes.1.mutationId', 'changes.2.mutationId']);
    expect(validateChanges(same, schema, limits, false)).toHaveLength(3);
  });

  it('names every bad field of every change in one answer', () => {
    const e = refusal(() =>
      validateChanges(
        [
          up(1, 'toolong', { title: 'x' }),
          up(2, 'b', { title: 1 }),
          up(3, 'c', { title: 'x' }, 'nope'),
        ],
        schema,
        limits,
        true,
      ),
    );
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.issues.map((i) => i.path)).toEqual([
      'changes.0.id',
      'changes.1.data.title',
      'changes.2.collection',
    ]);
    expect(e.issues[2]!.message).toBe('unknown collection "nope" (known: notes, tasks)');
    const missing = refusal(() =>
      validateChanges(
        [
          { mutationId: 1, collection: 'tasks', id: 'a', op: 'patch' } as ChangeInput,
          { ...up(2, 'b', null) },
        ],
        schema,
        limits,
        true,
      ),
    );
    expect(missing.issues).toEqual([
      { path: 'changes.0.data', message: 'patch needs a data object' },
      { path: 'changes.1.data', message: 'upsert needs a data object' },
    ]);
    // An issue of the whole document (no path inside it) is reported at the data itself.
    const root = refusal(() => validateChanges([up(1, 'a', 'text')], schema, limits, true));
    expect(root.issues[0]!.path).toBe('changes.0.data');
  });

  it('refuses data above maxDocumentBytes with PAYLOAD_TOO_LARGE, even next to other bad fields; exactly the limit passes', () => {
    const at = { title: 'x'.repeat(40 - jsonBytes({ title: '' })) };
    expect(jsonBytes(at)).toBe(40);
    expect(validateChanges([up(1, 'a', at)], schema, limits, true)).toHaveLength(1);
    const over = { title: `${at.title}y` };
    const e = refusal(() =>
      validateChanges([up(1, 'toolong', { title: 1 }), up(2, 'b', over)], schema, limits, true),
    );
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(e.issues.map((i) => i.path)).toEqual(['changes.1.data']);
    expect(e.message).toMatch(/^changes\.1\.data: document is more than 40 bytes/);
  });
});

describe('badIdReason', () => {
  it('allows max units, refuses one more, control characters and lone surrogates', () => {
    expect(badIdReason('abcde', 5)).toBeNull();
    expect(badIdReason('😀😀a', 5)).toBeNull();
    expect(badIdReason('abcdef', 5)).toBe('must be at most 5 characters (limits.maxIdLength)');
    for (const c of ['\u0000', '\u001f', '\u007f', '\n'])
      expect(badIdReason(`a${c}`, 5)).toBe('must not contain control characters');
    expect(badIdReason('a\ud800', 5)).toMatch(/lone surrogates/);
    expect(badIdReason('\udc00', 5)).toMatch(/lone surrogates/);
    expect(badIdReason('\u0080é ', 5)).toBeNull();
  });
});

describe('parseInput and parsePushInput', () => {
  const input = z.object({ clientId: z.string().optional(), since: z.string().nullish() });
  it('parses undefined as an empty object and names the bad field', () => {
    expect(parseInput(input, undefined, 'pull')).toEqual({});
    const e = refusal(() => parseInput(input, { since: 5 }, 'pull'));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.issues[0]!.path).toBe('since');
    expect(e.message).toMatch(/^invalid pull request/);
  });
  it('does not check key names of query inputs (only depth): unknown keys are left to the schema', () => {
    expect(parseInput(input, { since: null, $extra: 'a\u0000' }, 'pull')).toEqual({ since: null });
  });
  it('bounds the depth before zod runs (default 8 levels for queries)', () => {
    const deep = (n: number): unknown => (n === 0 ? 'x' : { a: deep(n - 1) });
    expect(() => parseInput(z.unknown(), deep(8), 'pull')).not.toThrow();
    expect(refusal(() => parseInput(z.unknown(), deep(9), 'pull')).issues[0]!.message).toMatch(
      /nested deeper than 8 levels/,
    );
    expect(() => parseInput(z.unknown(), deep(3), 'pull', 3)).not.toThrow();
    expect(() => parseInput(z.unknown(), deep(4), 'pull', 3)).toThrow(SyncError);
  });
  it('refuses a bad client id on a push, naming clientId', () => {
    const push = z.object({ clientId: z.string(), changes: z.array(z.unknown()) });
    expect(
      parsePushInput(push, { clientId: 'c'.repeat(128), changes: [] }, 'push', limits),
    ).toEqual({ clientId: 'c'.repeat(128), changes: [] });
    const long = refusal(() =>
      parsePushInput(push, { clientId: 'c'.repeat(129), changes: [] }, 'push', limits),
    );
    expect(long.issues).toEqual([
      { path: 'clientId', message: 'must be at most 128 characters (limits.maxIdLength)' },
    ]);
    expect(long.message).toMatch(/^invalid push request/);
    expect(
      refusal(() => parsePushInput(push, { clientId: 'a\u0001', changes: [] }, 'write', limits))
        .message,
    ).toMatch(/^invalid write request/);
    // Document keys and depth are checked on the raw input, before zod (which would drop an own __proto__).
    const keys = refusal(() =>
      parsePushInput(
        push,
        JSON.parse('{"clientId":"c","changes":[{"data":{"__proto__":1,"$set":2}}]}'),
        'push',
        limits,
      ),
    );
    expect(keys.issues.map((i) => i.path).sort()).toEqual([
      'changes.0.data.$set',
      'changes.0.data.__proto__',
    ]);
    const deep = refusal(() =>
      parsePushInput(
        push,
        { clientId: 'c', changes: [{ data: { a: { b: { c: { d: { e: 1 } } } } } }] },
        'push',
        limits,
      ),
    );
    expect(deep.issues[0]!.message).toMatch(/nested deeper than 4 levels/);
  });
});

describe('pageLimit, checkCollections, exceedsBytes', () => {
  it('pageLimit: the default when absent, up to the maximum, BAD_REQUEST above it naming the option', () => {
    expect(pageLimit(undefined, 10, 50, 'maxPullLimit')).toBe(10);
    expect(pageLimit(50, 10, 50, 'maxPullLimit')).toBe(50);
    expect(pageLimit(1, 10, 50, 'maxPullLimit')).toBe(1);
    const e = refusal(() => pageLimit(51, 10, 50, 'maxPullLimit'));
    expect(e.issues).toEqual([{ path: 'limit', message: 'must be at most 50' }]);
    expect(e.message).toBe('limit: at most 50 (limits.maxPullLimit), got 51');
  });
  it('checkCollections: names each unknown collection by its index; none or known ones pass', () => {
    expect(() => checkCollections(schema, undefined)).not.toThrow();
    expect(() => checkCollections(schema, ['notes', 'tasks'])).not.toThrow();
    const e = refusal(() => checkCollections(schema, ['tasks', 'taks', 'x']));
    expect(e.issues.map((i) => i.path)).toEqual(['collections.1', 'collections.2']);
  });
  it('exceedsBytes: false at the limit, true one byte above', () => {
    expect(exceedsBytes({ a: 'é' }, jsonBytes({ a: 'é' }))).toBe(false);
    expect(exceedsBytes({ a: 'é' }, jsonBytes({ a: 'é' }) - 1)).toBe(true);
  });
});
