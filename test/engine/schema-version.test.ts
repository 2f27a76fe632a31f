// Schema-version gating on its own (the faces' tests check the same through tRPC and REST): the
// options resolved at start-up, and each request's version against them.
import { describe, expect, it } from 'vitest';
import { SyncError } from '../../shared/errors.js';
import {
  checkSchemaVersion,
  resolveSchemaVersionPolicy,
  schemaVersionOf,
} from '../../server/engine/schema-version.js';

/** The SyncError `fn` throws (fails the test when it returns). */
function thrown(fn: () => unknown): SyncError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SyncError);
    return error as SyncError;
  }
  throw new Error('expected a SyncError, nothing was thrown');
}

describe('resolveSchemaVersionPolicy', () => {
  it('without options: any version, none required', () => {
    expect(resolveSchemaVersionPolicy({}, undefined)).toEqual({ min: null, require: false });
    expect(resolveSchemaVersionPolicy({}, 3)).toEqual({ min: null, require: false });
  });

  it('keeps a minimum at or below the schema version, and requireSchemaVersion', () => {
    expect(resolveSchemaVersionPolicy({ minSchemaVersion: 3 }, 3)).toEqual({
      min: 3,
      require: false,
    });
    expect(
      resolveSchemaVersionPolicy({ minSchemaVersion: 2, requireSchemaVersion: true }, 5),
    ).toEqual({ min: 2, require: true });
    // A schema without a version: the minimum is not compared with anything.
    expect(resolveSchemaVersionPolicy({ minSchemaVersion: 9 }, undefined)).toEqual({
      min: 9,
      require: false,
    });
  });

  it('refuses at start-up a minimum that is not a positive integer, naming the value', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
      expect(() => resolveSchemaVersionPolicy({ minSchemaVersion: bad }, 5)).toThrow(
        `option minSchemaVersion must be a positive integer, got ${String(bad)}`,
      );
    }
  });

  it('refuses a minimum above the schema version (no client could sync); equal is fine', () => {
    expect(() => resolveSchemaVersionPolicy({ minSchemaVersion: 4 }, 3)).toThrow(
      "option minSchemaVersion (4) is above the schema's own version (3): no client could sync",
    );
    expect(resolveSchemaVersionPolicy({ minSchemaVersion: 3 }, 3).min).toBe(3);
  });

  it('refuses a requireSchemaVersion that is not a boolean', () => {
    expect(() =>
      resolveSchemaVersionPolicy({ requireSchemaVersion: 'yes' as unknown as boolean }, 1),
    ).toThrow('option requireSchemaVersion must be a boolean');
  });
});

describe('schemaVersionOf', () => {
  it('reads the field of an object, and nothing of anything else', () => {
    expect(schemaVersionOf({ schemaVersion: 4 })).toBe(4);
    expect(schemaVersionOf({ schemaVersion: 'x' })).toBe('x');
    expect(schemaVersionOf({})).toBeUndefined();
    expect(schemaVersionOf(null)).toBeUndefined();
    expect(schemaVersionOf(undefined)).toBeUndefined();
    expect(schemaVersionOf(7)).toBeUndefined();
    expect(schemaVersionOf('schemaVersion')).toBeUndefined();
  });
});

describe('checkSchemaVersion', () => {
  const open = { min: null, require: false };
  const gated = { min: 3, require: false };
  const required = { min: 3, require: true };
  const requiredAny = { min: null, require: true };

  it('lets through an absent version unless one is required', () => {
    for (const absent of [undefined, null]) {
      expect(checkSchemaVersion(open, absent)).toBeUndefined();
      expect(checkSchemaVersion(gated, absent)).toBeUndefined();
    }
  });

  it('an absent version where one is required: UPGRADE_REQUIRED with the minimum, when there is one', () => {
    for (const absent of [undefined, null]) {
      const e = thrown(() => checkSchemaVersion(required, absent));
      expect(e.code).toBe('UPGRADE_REQUIRED');
      expect(e.message).toBe(
        "upgrade required: this server needs the client's schema version (schemaVersion, or the X-Sync-Schema-Version header), at least 3",
      );
      expect(e.issues).toEqual([{ path: 'schemaVersion', message: 'required' }]);
      expect(e.minSchemaVersion).toBe(3);
    }
    const any = thrown(() => checkSchemaVersion(requiredAny, undefined));
    expect(any.code).toBe('UPGRADE_REQUIRED');
    expect(any.message).toBe(
      "upgrade required: this server needs the client's schema version (schemaVersion, or the X-Sync-Schema-Version header)",
    );
    expect(any.minSchemaVersion).toBeUndefined();
  });

  it('a version that is not a positive integer: BAD_REQUEST naming schemaVersion', () => {
    for (const bad of [0, -2, 1.5, '3', true, {}]) {
      for (const policy of [open, gated, required]) {
        const e = thrown(() => checkSchemaVersion(policy, bad));
        expect(e.code).toBe('BAD_REQUEST');
        expect(e.message).toMatch(/^schemaVersion: ./);
        expect(e.issues).toHaveLength(1);
        expect(e.issues[0]!.path).toBe('schemaVersion');
        expect(e.message).toBe(`schemaVersion: ${e.issues[0]!.message}`);
      }
    }
  });

  it("the BAD_REQUEST says zod's reason for the value", () => {
    expect(thrown(() => checkSchemaVersion(open, '3')).message).toBe(
      'schemaVersion: Invalid input: expected number, received string',
    );
    expect(thrown(() => checkSchemaVersion(open, 1.5)).issues).toEqual([
      { path: 'schemaVersion', message: 'must be an integer' },
    ]);
  });

  it('below the minimum: UPGRADE_REQUIRED naming both versions; at or above it, or with no minimum: passes', () => {
    const e = thrown(() => checkSchemaVersion(gated, 2));
    expect(e.code).toBe('UPGRADE_REQUIRED');
    expect(e.message).toBe(
      'upgrade required: schema version 2 is older than the oldest this server accepts (3); update the app (pending changes are kept)',
    );
    expect(e.issues).toEqual([{ path: 'schemaVersion', message: 'must be at least 3' }]);
    expect(e.minSchemaVersion).toBe(3);
    expect(thrown(() => checkSchemaVersion(required, 1)).code).toBe('UPGRADE_REQUIRED');
    for (const ok of [3, 4, 1000]) {
      expect(checkSchemaVersion(gated, ok)).toBeUndefined();
      expect(checkSchemaVersion(required, ok)).toBeUndefined();
    }
    expect(checkSchemaVersion(open, 1)).toBeUndefined();
    expect(checkSchemaVersion(requiredAny, 1)).toBeUndefined();
  });
});
