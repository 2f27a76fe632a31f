/** Conformance: the live stream (catch-up, live, resume, heartbeats, slow subscribers). */
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../shared/protocol.js';
import type { SyncEngine } from '../../server/engine/types.js';
import type { Actor } from '../../shared/protocol.js';
import { makeEngine, newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

/** Reads events from a stream until `until` says stop (bounded by a timeout). */
async function collect(
  engine: SyncEngine,
  actor: Actor,
  input: object,
  until: (events: StreamEvent[]) => boolean,
  timeoutMs = 10_000,
) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: StreamEvent[] = [];
  try {
    for await (const ev of engine.stream(actor, input, ac.signal)) {
      events.push(ev);
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

const push = (engine: SyncEngine, actor: Actor, id: string, mutationId: number) =>
  engine.push(actor, {
    clientId: 'w',
    changes: [{ mutationId, collection: 'tasks', id, op: 'upsert', data: { title: id } }],
  });

export function streamSuite(ctx: Ctx): void {
  describe('stream', () => {
    it('catches up from since, then delivers each new commit once, and resumes from its last checkpoint', async () => {
      const actor = newActor();
      const engine = ctx.engine();
      await push(engine, actor, 'a', 1);
      await push(engine, actor, 'b', 2);
      const ids = (events: StreamEvent[]) =>
        events.flatMap((e) => (e.type === 'changes' ? e.changes.map((c) => c.id) : []));
      const livePushes = (async () => {
        await new Promise((r) => setTimeout(r, 100));
        for (let i = 0; i < 5; i++) await push(engine, actor, `live${i}`, 10 + i);
      })();
      const events = await collect(engine, actor, {}, (evs) => ids(evs).length >= 7);
      await livePushes;
      expect(ids(events)).toEqual(['a', 'b', 'live0', 'live1', 'live2', 'live3', 'live4']);
      // One event per live commit, each with its own checkpoint.
      const live = events.slice(1);
      expect(live.every((e) => e.type === 'changes' && e.changes.length === 1)).toBe(true);
      // Resume from the event after live1: exactly the rest.
      const resumeAt = events.find(
        (e) => e.type === 'changes' && e.changes[0]!.id === 'live1',
      ) as Extract<StreamEvent, { type: 'changes' }>;
      await push(engine, actor, 'after', 20);
      const resumed = await collect(engine, actor, { lastEventId: resumeAt.checkpoint }, (evs) =>
        ids(evs).includes('after'),
      );
      expect(ids(resumed)).toEqual(['live2', 'live3', 'live4', 'after']);
    });

    it('filters by collection and sends heartbeats when idle', async () => {
      const actor = newActor();
      const engine = makeEngine(ctx.store(), { stream: { heartbeatMs: 50 } });
      const events = collect(
        engine,
        actor,
        { collections: ['notes'] },
        (evs) =>
          evs.some((e) => e.type === 'changes') &&
          evs.filter((e) => e.type === 'heartbeat').length >= 2,
      );
      await new Promise((r) => setTimeout(r, 30));
      await push(engine, actor, 'task-not-sent', 1);
      await engine.push(actor, {
        clientId: 'w',
        changes: [
          { mutationId: 2, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'sent' } },
        ],
      });
      const got = await events;
      const changes = got.filter((e) => e.type === 'changes');
      expect(
        changes.flatMap((e) => (e.type === 'changes' ? e.changes.map((c) => c.id) : [])),
      ).toEqual(['n1']);
      expect(got.some((e) => e.type === 'heartbeat')).toBe(true);
      await engine.close();
    });

    it('tells a subscriber that falls behind to resync instead of buffering without bound', async () => {
      const actor = newActor();
      const engine = makeEngine(ctx.store(), { stream: { maxQueue: 3 } });
      const ac = new AbortController();
      const it = engine.stream(actor, {}, ac.signal)[Symbol.asyncIterator]();
      const first = it.next(); // subscribes and waits for the first live event
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 10; i++) await push(engine, actor, `x${i}`, i + 1);
      const events: StreamEvent[] = [(await first).value as StreamEvent];
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        events.push(n.value);
      }
      expect(events.at(-1)!.type).toBe('resync_required');
      ac.abort();
      await engine.close();
    });

    it('shares one feed: many subscribers of one scope all get every commit', async () => {
      const actor = newActor();
      const engine = ctx.engine();
      const count = 20;
      const streams = Array.from({ length: count }, () =>
        collect(engine, actor, {}, (evs) => evs.filter((e) => e.type === 'changes').length >= 3),
      );
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 3; i++) await push(engine, actor, `s${i}`, i + 1);
      const all = await Promise.all(streams);
      for (const events of all)
        expect(
          events.flatMap((e) => (e.type === 'changes' ? e.changes.map((c) => c.id) : [])),
        ).toEqual(['s0', 's1', 's2']);
    });

    it("builds a live commit's event once for unfiltered subscribers (one shared object); filtered ones get their own", async () => {
      const actor = newActor();
      const engine = ctx.engine();
      const first = (input: object) =>
        collect(engine, actor, input, (evs) => evs.some((e) => e.type === 'changes'));
      const unfiltered = [first({}), first({}), first({})];
      const tasksOnly = first({ collections: ['tasks'] });
      await new Promise((r) => setTimeout(r, 100));
      await engine.push(actor, {
        clientId: 'w',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 't1' } },
          { mutationId: 2, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'n1' } },
        ],
      });
      const events = (await Promise.all(unfiltered)).map((evs) =>
        evs.find((e) => e.type === 'changes')!,
      );
      expect(events[1]).toBe(events[0]);
      expect(events[2]).toBe(events[0]);
      const shared = events[0] as Extract<StreamEvent, { type: 'changes' }>;
      expect(shared.changes.map((c) => `${c.collection}/${c.id}`)).toEqual([
        'tasks/t1',
        'notes/n1',
      ]);
      const own = (await tasksOnly).find((e) => e.type === 'changes') as Extract<
        StreamEvent,
        { type: 'changes' }
      >;
      expect(own).not.toBe(shared);
      expect(own.checkpoint).toBe(shared.checkpoint);
      expect(own.changes.map((c) => `${c.collection}/${c.id}`)).toEqual(['tasks/t1']);
    });
  });
}
