// The slow-consumer rule of openLiveStream on a fake engine and transport: when it waits, when it trips, what it counts, and the caps' release.
import { describe, expect, it } from 'vitest';
import type { StreamWatch, SyncEngine } from '../../server/engine/types.js';
import { liveConnections } from '../../server/live/connections.js';
import { openLiveStream, type LiveTransport } from '../../server/live/slow-consumers.js';
import { SyncError } from '../../shared/errors.js';
import type { Actor, StreamEvent } from '../../shared/protocol.js';

const actor: Actor = { userId: 'u', scopeId: 's' };
const BOUND = 10_000;
const changes = (n: number): StreamEvent => ({
  type: 'changes',
  checkpoint: `cp${n}`,
  changes: [],
});

/** An engine whose stream yields what the test pushes, and hands the test the face's watch. */
function fakeEngine(
  limits = { maxLiveConnectionsPerActor: 16, maxSubscriptionsPerConnection: 32 },
) {
  const queue: StreamEvent[] = [];
  let wake: (() => void) | null = null;
  let watch: StreamWatch | undefined;
  const slow: string[] = [];
  let ended = false;
  const engine = {
    limits: {},
    streamOptions: { maxQueue: 5, heartbeatMs: 1000, pollMs: 1000 },
    // Transport limits given under the engine's old option names reach the faces' gateway.
    transportLimits: { ...limits, maxBufferedBytes: BOUND, slowConsumerGraceMs: 10 },
    stream(_actor: Actor, _input: unknown, _signal: AbortSignal | undefined, w?: StreamWatch) {
      watch = w;
      return (async function* () {
        try {
          for (;;) {
            while (queue.length === 0) await new Promise<void>((r) => (wake = r));
            const event = queue.shift()!;
            yield event;
            if (event.type === 'resync_required') return;
          }
        } finally {
          ended = true;
        }
      })();
    },
    slowConsumer: (_a: Actor, face: string) => slow.push(face),
  } as unknown as SyncEngine;
  return {
    engine,
    push(event: StreamEvent) {
      queue.push(event);
      wake?.();
    },
    watch: () => watch!,
    slow,
    ended: () => ended,
  };
}

/** A transport whose buffer the test sets; `drained()` waits for `drain()`. */
function fakeTransport() {
  let waiters: Array<() => void> = [];
  const t = {
    held: 0,
    cuts: 0,
    connection: {},
    buffered: () => t.held,
    drained: () => new Promise<void>((r) => waiters.push(r)),
    cut: () => void t.cuts++,
    drain(to: number) {
      t.held = to;
      for (const w of waiters) w();
      waiters = [];
    },
  };
  return t satisfies LiveTransport;
}

describe('openLiveStream: the slow-consumer rule', () => {
  it('live: one frame larger than the bound is not slow; what is held from before the newest frame past the bound is', async () => {
    const e = fakeEngine();
    const t = fakeTransport();
    const live = openLiveStream({ engine: e.engine, actor, input: {}, face: 'ws', transport: t });
    e.push(changes(1));
    expect((await live.next()).value).toEqual(changes(1));
    e.watch().onLive!();
    t.held = 3 * BOUND; // the face wrote a big frame (the consumer asks for the next event after writing)
    e.push(changes(2));
    expect((await live.next()).value).toEqual(changes(2));
    expect(live.slow).toBe(false);
    t.held += 100; // the big frame is still there and a small one came after it: held before the newest is 3 × bound
    e.push(changes(3));
    const tripped = await live.next();
    expect(tripped.value?.type).toBe('resync_required');
    expect(live.slow).toBe(true);
    expect(e.slow).toEqual(['ws']);
    expect(e.ended()).toBe(true); // it left the feed before handing over the resync
    expect((await live.next()).done).toBe(true);
  });

  it('catch-up: waits for the peer instead of tripping, and goes on once it took the bytes', async () => {
    const e = fakeEngine();
    const t = fakeTransport();
    const live = openLiveStream({ engine: e.engine, actor, input: {}, face: 'sse', transport: t });
    e.push(changes(1));
    await live.next();
    t.held = 5 * BOUND; // a big first page, not taken yet
    e.push(changes(2));
    await live.next();
    t.held += 100; // and a second one behind it
    e.push(changes(3));
    let got: IteratorResult<StreamEvent> | null = null;
    void live.next().then((r) => (got = r));
    for (let turn = 0; turn < 5; turn++) await new Promise((r) => setImmediate(r)); // every queued callback ran
    expect(got).toBeNull(); // waiting
    t.drain(0);
    await until(() => got !== null);
    expect(got!.value).toEqual(changes(3));
    expect(live.slow).toBe(false);
    expect(e.slow).toEqual([]);
    await live.return();
  });

  it('an engine queue overflow while waiting for the peer ends the stream with resync_required (counted by the engine, not again here)', async () => {
    const e = fakeEngine();
    const t = fakeTransport();
    const live = openLiveStream({ engine: e.engine, actor, input: {}, face: 'trpc', transport: t });
    e.push(changes(1));
    await live.next();
    t.held = 5 * BOUND;
    e.push(changes(2));
    await live.next();
    t.held += 100;
    e.push(changes(3));
    const next = live.next();
    await new Promise((r) => setImmediate(r)); // the consumer is parked on its next event
    e.watch().onOverflow!();
    expect((await next).value?.type).toBe('resync_required');
    expect(live.slow).toBe(true);
    expect(e.slow).toEqual([]);
    expect(t.cuts).toBe(0);
  });

  it('an overflow while the consumer holds an event and does not ask again cuts the connection', async () => {
    const e = fakeEngine();
    const t = fakeTransport();
    const live = openLiveStream({ engine: e.engine, actor, input: {}, face: 'trpc', transport: t });
    e.push(changes(1));
    await live.next(); // and never asks again, like a face blocked on its peer
    e.watch().onOverflow!();
    await until(() => t.cuts === 1);
    expect(live.slow).toBe(true);
    await live.return();
  });

  it('caps: one connection past maxLiveConnectionsPerActor is TOO_MANY_REQUESTS; a stream never iterated still releases its place', async () => {
    const e = fakeEngine({ maxLiveConnectionsPerActor: 1, maxSubscriptionsPerConnection: 2 });
    const socket = fakeTransport();
    const a = openLiveStream({
      engine: e.engine,
      actor,
      input: {},
      face: 'trpc',
      transport: socket,
    });
    const b = openLiveStream({
      engine: e.engine,
      actor,
      input: {},
      face: 'trpc',
      transport: socket,
    }); // same connection: a second subscription
    expect(() =>
      openLiveStream({ engine: e.engine, actor, input: {}, face: 'trpc', transport: socket }),
    ).toThrow(/maxSubscriptionsPerConnection = 2/);
    let refused: unknown;
    try {
      openLiveStream({
        engine: e.engine,
        actor,
        input: {},
        face: 'sse',
        transport: fakeTransport(),
      });
    } catch (error) {
      refused = error;
    }
    expect(SyncError.is(refused) && refused.code).toBe('TOO_MANY_REQUESTS');
    expect(
      openLiveStream({
        engine: e.engine,
        actor: { userId: 'other', scopeId: 's' },
        input: {},
        face: 'sse',
        transport: fakeTransport(),
      }),
    ).toBeTruthy();
    await a.return();
    await b.return();
    expect(liveConnections(e.engine).connectionsOf(actor)).toBe(0);
    const c = openLiveStream({ engine: e.engine, actor, input: {}, face: 'sse', transport: null });
    await c.return();
  });
});

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
