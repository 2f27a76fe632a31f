/** Checkpoints and full-export cursors: round trips, "from the beginning", and every malformed shape refused as BAD_REQUEST (kills the checkpoint.ts mutants the store suites left alive). */
import { describe, expect, it } from 'vitest';
import {
  decodeCheckpoint,
  decodeCursor,
  encodeCheckpoint,
  encodeCursor,
} from '../../shared/checkpoint.js';

const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const refused = (fn: () => unknown, field: string) =>
  expect(fn).toThrow(
    expect.objectContaining({
      code: 'BAD_REQUEST',
      message: expect.stringContaining(`${field}: not a`),
    }),
  );

describe('decodeCheckpoint', () => {
  it('reads undefined, null and the empty string as "from the beginning"', () => {
    expect(decodeCheckpoint(undefined)).toBeNull();
    expect(decodeCheckpoint(null)).toBeNull();
    expect(decodeCheckpoint('')).toBeNull();
  });

  it('round-trips and refuses what this server never issued, naming the field', () => {
    expect(decodeCheckpoint(encodeCheckpoint({ epoch: 'e1', seq: 123456 }))).toEqual({
      epoch: 'e1',
      seq: 123456,
    });
    refused(() => decodeCheckpoint('c1.e1'), 'since');
    refused(() => decodeCheckpoint('c2.e1.5', 'after'), 'after');
    // Matches the pattern, but the seq is above Number.MAX_SAFE_INTEGER.
    refused(() => decodeCheckpoint('c1.e1.zzzzzzzzzzzz'), 'since');
  });
});

describe('full-export cursors', () => {
  it('round-trip through base64url for every length (padding-free encoding)', () => {
    for (const id of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'é😀']) {
      const cursor = {
        checkpoint: encodeCheckpoint({ epoch: 'e1', seq: 7 }),
        collection: 'tasks',
        id,
      };
      const text = encodeCursor(cursor);
      expect(text).toBe(forged([cursor.checkpoint, cursor.collection, cursor.id]));
      expect(decodeCursor(text)).toEqual(cursor);
    }
    expect(decodeCursor('')).toBeNull();
    expect(decodeCursor(null)).toBeNull();
  });

  it('refuses every malformed shape as BAD_REQUEST naming cursor', () => {
    const cp = encodeCheckpoint({ epoch: 'e1', seq: 1 });
    for (const bad of [
      forged({ checkpoint: cp, collection: 'tasks', id: 'a' }), // not an array
      forged([cp, 'tasks']), // too short
      forged([cp, 'tasks', 'a', 'x']), // too long
      forged([cp, 'tasks', 5]), // an id that is not a string
      forged([1, 'tasks', 'a']), // a checkpoint that is not a string
      forged([encodeCheckpoint({ epoch: 'e1', seq: 1 }), ['tasks'], 'a']), // a collection that only reads as a name once coerced
      forged([cp, '9tasks', 'a']), // not a collection name
      forged([cp, 'tasks', 'a\u0000b']), // NUL in the id
      forged([cp, 'tasks', 'x'.repeat(257)]), // longer than any document id
      forged(['nope', 'tasks', 'a']), // not a checkpoint
      'not base64url!',
    ])
      refused(() => decodeCursor(bad), 'cursor');
  });
});
