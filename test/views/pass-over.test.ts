/**
 * The live feed passes over commits a subscriber cannot see (a view's subscriber and documents
 * outside its view; a collections filter and other collections): no wake, no catch-up read, and
 * the subscriber's checkpoint still moves past them, on memory, PGlite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../server/stores/store.js';
import { Memberships, actor, reader, viewsEngine } from './fixture.js';
import { storeKinds } from './stores.js';

/** The store, with a count of filtered oplog reads (a stream's catch-up; the feed reads unfiltered). */
function counting(store: Store) {
  const counter = { filteredReads: 0 };
  const wrapped = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (key === 'readOplog' && typeof value === 'function')
        return (scope: string, options: { collections?: readonly string[] }) => {
          if (options?.collections) counter.filteredReads++;
          return (value as Store['readOplog']).call(target, scope, options as never);
        };
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { store: wrapped, counter };
}

const task = (id: string, assignee: string) => ({
  collection: 'tasks' as const,
  id,
  op: 'upsert' as const,
  data: { title: id, assignee },
});

for (const kind of storeKinds) {
  (kind.skip ? describe.skip : describe)(
    `live feed passes over unseen commits on ${kind.name}${kind.skip ? ` (skipped: ${kind.skip})` : ''}`,
    () => {
      let store: Store;
      let drop: () => Promise<void>;
      let counter: { filteredReads: number };
      let engine: ReturnType<typeof viewsEngine>;
      beforeAll(async () => {
        const opened = await kind.open();
        drop = opened.drop;
        ({ store, counter } = counting(opened.store));
        engine = viewsEngine(store, new Memberships(), {
          stream: { heartbeatMs: 150, pollMs: 100 },
        });
      }, 60_000);
      afterAll(async () => {
        await engine?.close();
        await drop?.();
      });
      const scope = () => `p-${randomBytes(4).toString('hex')}`;

      it('a view subscriber hears only its commits, with no catch-up read, and its heartbeat checkpoint passes the others', async () => {
        const s = scope();
        const ann = actor('ann', s);
        await engine.write(s, [task('a0', 'ann')]);
        const ac = new AbortController();
        const events = reader(engine.stream(ann, { view: { rule: 'mine' } }, ac.signal));
        const first = await events.next();
        expect(first).toMatchObject({ type: 'changes', changes: [{ id: 'a0' }] });
        const readsLive = counter.filteredReads;
        for (let i = 0; i < 20; i++) await engine.write(s, [task(`b${i}`, 'bob')]);
        await engine.write(s, [task('a1', 'ann')]);
        const live = await events.next();
        expect(live).toMatchObject({ type: 'changes', changes: [{ id: 'a1', op: 'upsert' }] });
        // The 20 commits of bob's tasks did not make ann's stream read the oplog to fill a gap
        // (checked before the pulls below, which read it themselves).
        expect(counter.filteredReads).toBe(readsLive);
        const head = (await engine.pull(ann, { view: { rule: 'mine' }, since: null })).checkpoint;
        expect(live.type === 'changes' && live.checkpoint).toBe(head);
        for (let i = 20; i < 25; i++) await engine.write(s, [task(`b${i}`, 'bob')]);
        const after = (await engine.pull(ann, { view: { rule: 'mine' }, since: null })).checkpoint;
        const readsBeat = counter.filteredReads;
        // Heartbeats only, until one is at the head (one may fire before the feed has delivered all five).
        let beat = await events.next();
        for (let n = 0; n < 20 && beat.type === 'heartbeat' && beat.checkpoint !== after; n++)
          beat = await events.next();
        expect(beat).toEqual({ type: 'heartbeat', checkpoint: after });
        expect(counter.filteredReads).toBe(readsBeat);
        // A pull from the heartbeat's checkpoint has nothing to add: the passed-over commits were nothing of ann's.
        const rest = await engine.pull(ann, { view: { rule: 'mine' }, since: after });
        expect(rest.changes).toEqual([]);
        ac.abort();
      });

      it('a collections filter passes over other collections, then delivers its own without a gap read', async () => {
        const s = scope();
        const who = actor('ann', s);
        const ac = new AbortController();
        const events = reader(engine.stream(who, { collections: ['notes'] }, ac.signal));
        await engine.write(s, [
          { collection: 'notes', id: 'n0', op: 'upsert', data: { body: 'first' } },
        ]);
        expect(await events.next()).toMatchObject({ type: 'changes', changes: [{ id: 'n0' }] });
        const readsLive = counter.filteredReads;
        for (let i = 0; i < 10; i++)
          await engine.write(s, [
            { collection: 'parts', id: `p${i}`, op: 'upsert', data: { name: 'x' } },
          ]);
        await engine.write(s, [
          { collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'second' } },
        ]);
        const live = await events.next();
        expect(live).toMatchObject({ type: 'changes', changes: [{ id: 'n1' }] });
        expect(counter.filteredReads).toBe(readsLive);
        const head = (await engine.pull(who, { collections: ['notes'], since: null })).checkpoint;
        expect(live.type === 'changes' && live.checkpoint).toBe(head);
        ac.abort();
      });
    },
  );
}
