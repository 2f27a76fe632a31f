// SyncError and its helpers on their own: the code's status, the wire body, the brand that works
// across two copies of the package, and the issues and messages built from zod.
import { describe, expect, it } from 'vitest';
import { badRequest, ERROR_STATUS, issuesFromZod, SyncError } from '../../shared/errors.js';

describe('SyncError', () => {
  it("holds code, message and issues; its status is the code's", () => {
    const issues = [{ path: 'changes.0.id', message: 'too long' }];
    const e = new SyncError('PAYLOAD_TOO_LARGE', 'too big', issues);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SyncError');
    expect(e.message).toBe('too big');
    expect(e.code).toBe('PAYLOAD_TOO_LARGE');
    expect(e.issues).toBe(issues);
    expect(e.status).toBe(413);
    for (const code of Object.keys(ERROR_STATUS) as (keyof typeof ERROR_STATUS)[])
      expect(new SyncError(code, 'x').status).toBe(ERROR_STATUS[code]);
    expect(new SyncError('BAD_REQUEST', 'x').issues).toEqual([]);
  });

  it('keeps the options it is given, and has none of them otherwise', () => {
    const cause = new Error('db down');
    const e = new SyncError('UNAVAILABLE', 'x', [], {
      cause,
      retryAfterMs: 0,
      minSchemaVersion: 2,
      recorded: [],
    });
    expect(e.cause).toBe(cause);
    expect(e.retryAfterMs).toBe(0);
    expect(e.minSchemaVersion).toBe(2);
    expect(e.recorded).toEqual([]);
    const bare = new SyncError('UNAVAILABLE', 'x', [], {});
    expect('cause' in bare).toBe(false);
    expect(bare.retryAfterMs).toBeUndefined();
    expect(bare.minSchemaVersion).toBeUndefined();
    expect(bare.recorded).toBeUndefined();
    expect('cause' in new SyncError('UNAVAILABLE', 'x')).toBe(false);
  });

  it('SyncError.is: true for any copy carrying the brand, false for everything else', () => {
    expect(SyncError.is(new SyncError('BAD_REQUEST', 'x'))).toBe(true);
    // Another copy of the package in the same bundle: a different class with the same global symbol.
    const copy = Object.assign(new Error('x'), {
      [Symbol.for('trpc-offline-sync.SyncError')]: true,
    });
    expect(SyncError.is(copy)).toBe(true);
    expect(SyncError.is({ [Symbol.for('trpc-offline-sync.SyncError')]: 'yes' })).toBe(false);
    for (const other of [new Error('x'), null, undefined, 'SyncError', 1, {}])
      expect(SyncError.is(other)).toBe(false);
  });

  it('toJSON: the wire body, with `recorded` only when set', () => {
    const issues = [{ path: 'a', message: 'b' }];
    expect(new SyncError('FORBIDDEN', 'no', issues).toJSON()).toEqual({
      error: { code: 'FORBIDDEN', message: 'no', issues },
    });
    expect(new SyncError('FORBIDDEN', 'no').toJSON().error).not.toHaveProperty('recorded');
    expect(
      new SyncError('CLIENT_ID_CONFLICT', 'copied', [], { recorded: [3, 4] }).toJSON(),
    ).toEqual({
      error: { code: 'CLIENT_ID_CONFLICT', message: 'copied', issues: [], recorded: [3, 4] },
    });
    expect(JSON.parse(JSON.stringify(new SyncError('NOT_FOUND', 'gone')))).toEqual({
      error: { code: 'NOT_FOUND', message: 'gone', issues: [] },
    });
  });
});

describe('issuesFromZod', () => {
  it('joins each path with dots after the prefix; numbers and symbols as text', () => {
    expect(
      issuesFromZod(
        [
          { path: ['data', 'title'], message: 'required' },
          { path: [0, Symbol.for('s')], message: 'bad' },
          { path: [], message: 'root' },
        ],
        ['changes', 2],
      ),
    ).toEqual([
      { path: 'changes.2.data.title', message: 'required' },
      { path: 'changes.2.0.Symbol(s)', message: 'bad' },
      { path: 'changes.2', message: 'root' },
    ]);
    expect(issuesFromZod([{ path: ['a'], message: 'm' }])).toEqual([{ path: 'a', message: 'm' }]);
    expect(issuesFromZod([])).toEqual([]);
  });
});

describe('badRequest', () => {
  it('names the first issue (its path, or "(root)") after what was wrong', () => {
    const e = badRequest(
      [
        { path: 'limit', message: 'too big' },
        { path: 'after', message: 'bad' },
      ],
      'bad pull',
    );
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toBe('bad pull: limit: too big');
    expect(e.issues).toHaveLength(2);
    expect(badRequest([{ path: '', message: 'not an object' }]).message).toBe(
      'invalid request: (root): not an object',
    );
    expect(badRequest([]).message).toBe('invalid request');
    expect(badRequest([], 'empty').message).toBe('empty');
  });
});
