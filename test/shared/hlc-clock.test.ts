/** HlcClock edge cases with a controlled wall clock: the counter within a millisecond and at its cap, receive() only moving forward, the drift bound exactly, node id sanitising (kills hlc.ts mutants hlc.test.ts left alive). */
import { describe, expect, it } from 'vitest';
import { HlcClock, compareHlc, formatHlc, parseHlc, sanitizeNodeId } from '../../shared/hlc.js';

const T = Date.parse('2026-05-02T12:00:00.000Z');
const at = (ms: number, counter: number, node = 'r') => formatHlc({ wallMs: ms, counter, node });
const clockAt = (time: { ms: number }, maxDriftMs = 1000) =>
  new HlcClock({ node: 'n', now: () => time.ms, maxDriftMs });

describe('HlcClock', () => {
  it('counts within one millisecond, and moves to the next millisecond when the counter is full', () => {
    const time = { ms: T };
    const clock = clockAt(time);
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T, counter: 0 });
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T, counter: 1 });
    time.ms = T + 5;
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T + 5, counter: 0 });
    for (let i = 1; i < 0xffff; i++) clock.now();
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T + 5, counter: 0xffff });
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T + 6, counter: 0 }); // full: borrow the next millisecond
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T + 6, counter: 1 });
  });

  it('receive() only moves forward: a later wall, or the same wall with a higher counter', () => {
    const time = { ms: T };
    const clock = clockAt(time);
    clock.now(); // T/0
    expect(clock.receive(at(T, 5))).toBe(true);
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T, counter: 6 });
    expect(clock.receive(at(T, 2))).toBe(true); // older: accepted, no move
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T, counter: 7 });
    expect(clock.receive(at(T - 10, 50))).toBe(true); // older wall, higher counter: no move
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T, counter: 8 });
    expect(clock.receive(at(T + 3, 0))).toBe(true); // later wall, lower counter: moves
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T + 3, counter: 1 });
    expect(clock.receive('not an hlc')).toBe(false);
  });

  it('refuses a remote HLC beyond the drift bound, and accepts one exactly at it', () => {
    const time = { ms: T };
    const clock = clockAt(time, 1000);
    expect(clock.isTooFarAhead(at(T + 1000, 0))).toBe(false);
    expect(clock.isTooFarAhead(at(T + 1001, 0))).toBe(true);
    expect(clock.isTooFarAhead('garbage')).toBe(false);
    expect(clock.receive(at(T + 1001, 0))).toBe(false);
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T, counter: 0 });
    expect(clock.receive(at(T + 1000, 3))).toBe(true);
    expect(parseHlc(clock.now())).toMatchObject({ wallMs: T + 1000, counter: 4 });
  });

  it('orders HLCs as strings, equal ones as equal', () => {
    expect(compareHlc(at(T, 1), at(T, 1))).toBe(0);
    expect(compareHlc(at(T, 1), at(T, 2))).toBe(-1);
    expect(compareHlc(at(T, 2), at(T, 1))).toBe(1);
  });

  it('sanitises node ids to the allowed alphabet and 64 units, never empty', () => {
    expect(sanitizeNodeId('dev 1/ä')).toBe('dev1');
    expect(sanitizeNodeId('a'.repeat(80))).toBe('a'.repeat(64));
    expect(sanitizeNodeId('@@@')).toBe('node');
    expect(sanitizeNodeId('x')).toBe('x');
    expect(new HlcClock({ node: '' }).node).toBe('node');
  });

  it('formats each millisecond right, also the same one twice in a row', () => {
    expect(at(T, 1)).toBe('20260502T120000.000Z-0001-r');
    expect(at(T, 2)).toBe('20260502T120000.000Z-0002-r');
    expect(at(T + 1, 0)).toBe('20260502T120000.001Z-0000-r');
  });
});
