/** The hybrid logical clock and the checkpoint codec: formats, order, monotonicity, drift cap. */
import { describe, expect, it } from 'vitest';
import { HlcClock, compareHlc, formatHlc, isHlc, parseHlc } from '../../shared/hlc.js';
import {
  decodeCheckpoint,
  decodeCursor,
  encodeCheckpoint,
  encodeCursor,
} from '../../shared/checkpoint.js';
import { SyncError } from '../../shared/errors.js';

describe('HLC', () => {
  it('formats as 20260502T120000.000Z-0001-node and parses back', () => {
    const wallMs = Date.UTC(2026, 4, 2, 12, 0, 0, 7);
    const text = formatHlc({ wallMs, counter: 1, node: 'a1b2' });
    expect(text).toBe('20260502T120000.007Z-0001-a1b2');
    expect(parseHlc(text)).toEqual({ wallMs, counter: 1, node: 'a1b2' });
    expect(isHlc('2026-05-02')).toBe(false);
    expect(isHlc('20261399T120000.000Z-0000-x')).toBe(false);
  });

  it('never goes backwards, even when the wall clock does, and orders as plain strings', () => {
    let wall = Date.UTC(2026, 0, 1);
    const clock = new HlcClock({ node: 'n1', now: () => wall });
    const seen = [clock.now(), clock.now()];
    wall -= 10_000; // the wall clock jumps back
    seen.push(clock.now());
    wall += 20_000;
    seen.push(clock.now(), clock.now());
    for (let i = 1; i < seen.length; i++) expect(compareHlc(seen[i - 1]!, seen[i]!)).toBe(-1);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('moves past a received HLC, but not past one beyond the drift cap', () => {
    const wall = Date.UTC(2026, 0, 1);
    const clock = new HlcClock({ node: 'n1', now: () => wall, maxDriftMs: 60_000 });
    const near = formatHlc({ wallMs: wall + 30_000, counter: 5, node: 'far' });
    expect(clock.receive(near)).toBe(true);
    expect(clock.now() > near).toBe(true);
    const tooFar = formatHlc({ wallMs: wall + 120_000, counter: 0, node: 'bad' });
    expect(clock.isTooFarAhead(tooFar)).toBe(true);
    expect(clock.receive(tooFar)).toBe(false);
    expect(clock.now() < tooFar).toBe(true);
  });

  it('formats distinct milliseconds correctly one after another (per-millisecond cache)', () => {
    const a = formatHlc({ wallMs: Date.UTC(2026, 0, 1, 0, 0, 0, 1), counter: 0, node: 'x' });
    const b = formatHlc({ wallMs: Date.UTC(2026, 0, 1, 0, 0, 0, 2), counter: 0, node: 'x' });
    const a2 = formatHlc({ wallMs: Date.UTC(2026, 0, 1, 0, 0, 0, 1), counter: 3, node: 'x' });
    expect([a, b, a2]).toEqual([
      '20260101T000000.001Z-0000-x',
      '20260101T000000.002Z-0000-x',
      '20260101T000000.001Z-0003-x',
    ]);
  });
});

describe('checkpoints and cursors', () => {
  it('round-trip and stay opaque strings', () => {
    const text = encodeCheckpoint({ epoch: 'abc123', seq: 123456 });
    expect(decodeCheckpoint(text)).toEqual({ epoch: 'abc123', seq: 123456 });
    expect(decodeCheckpoint('')).toBeNull();
    expect(decodeCheckpoint(undefined)).toBeNull();
    const cursor = encodeCursor({ checkpoint: text, collection: 'tasks', id: 'id with spaces/é' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({
      checkpoint: text,
      collection: 'tasks',
      id: 'id with spaces/é',
    });
  });

  it('reject malformed values with BAD_REQUEST naming the field', () => {
    for (const bad of ['nope', 'c1.ABC.1', 'c1.abc.', 'c2.abc.1']) {
      try {
        decodeCheckpoint(bad, 'since');
        throw new Error(`accepted ${bad}`);
      } catch (error) {
        expect(SyncError.is(error) && error.code).toBe('BAD_REQUEST');
        expect((error as SyncError).issues[0]!.path).toBe('since');
      }
    }
    expect(() => decodeCursor('!!')).toThrow(/cursor/);
    expect(() =>
      decodeCursor(encodeCursor({ checkpoint: 'not-a-checkpoint', collection: 'a', id: 'b' })),
    ).toThrow(/cursor/);
  });
});
