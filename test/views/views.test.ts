/**
 * Read rules at the engine, on memory, PGlite and PostgreSQL: pull, full and stream with a view
 * and without (default views) never show a document outside it (old oplog versions included),
 * moves arrive as `left` removals or whole upserts, refreshViews answers a per-view resync and
 * the rebuild delivers, and refused views name the problem.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../shared/errors.js';
import type { ChangeOut } from '../../shared/protocol.js';
import type { Store } from '../../server/stores/store.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import {
  Memberships,
  actor,
  fullAll,
  pullAll,
  reader,
  viewsEngine,
  viewsSchema,
} from './fixture.js';
import { storeKinds } from './stores.js';

async function refused(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (SyncError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

for (const kind of storeKinds) {
  (kind.skip ? describe.skip : describe)(
    `views on ${kind.name}${kind.skip ? ` (skipped: ${kind.skip})` : ''}`,
    () => {
      let store: Store;
      let drop: () => Promise<void>;
      let peer: () => Promise<Store>;
      const members = new Memberships();
      let engine: ReturnType<typeof viewsEngine>;
      beforeAll(async () => {
        ({ store, drop, peer } = await kind.open());
        engine = viewsEngine(store, members);
      }, 60_000);
      afterAll(async () => {
        await engine?.close();
        await drop?.();
      });
      const scope = () => `s-${randomBytes(4).toString('hex')}`;

      it('a view shows only matching documents; a reassignment is a left removal for the old owner and a whole upsert for the new one; old versions never leak', async () => {
        const s = scope();
        const ann = actor('ann', s);
        const bob = actor('bob', s);
        await engine.write(s, [
          {
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'secret for ann', assignee: 'ann' },
          },
          {
            collection: 'tasks',
            id: 't2',
            op: 'upsert',
            data: { title: 'bob task', assignee: 'bob' },
          },
        ]);
        const annStart = await engine.pull(ann, { view: { rule: 'mine' } });
        expect(annStart.changes.map((c) => c.id)).toEqual(['t1']);
        await engine.write(s, [
          {
            collection: 'tasks',
            id: 't1',
            op: 'patch',
            data: { assignee: 'bob', title: 'now bob' },
          },
        ]);
        const annNext = await engine.pull(ann, {
          view: { rule: 'mine' },
          since: annStart.checkpoint,
        });
        expect(annNext.changes).toEqual([
          {
            collection: 'tasks',
            id: 't1',
            op: 'delete',
            data: null,
            version: expect.any(String),
            left: true,
          },
        ]);
        // From the beginning, Bob never sees the version that was Ann's.
        const bobAll = await pullAll(engine, bob, { view: { rule: 'mine' } });
        expect(bobAll.changes.map((c) => [c.id, c.op, c.data?.title])).toEqual([
          ['t2', 'upsert', 'bob task'],
          ['t1', 'upsert', 'now bob'],
        ]);
        // Page by page (one entry per page), every answered document matches.
        let since: string | null = null;
        const seen: ChangeOut[] = [];
        for (;;) {
          const page = await engine.pull(bob, { view: { rule: 'mine' }, since, limit: 1 });
          seen.push(...page.changes);
          since = page.checkpoint;
          if (!page.hasMore) break;
        }
        for (const c of seen) if (c.op === 'upsert') expect(c.data?.assignee).toBe('bob');
        expect(seen.some((c) => c.data?.title === 'secret for ann')).toBe(false);
        // Ann's view after the move: nothing.
        expect((await fullAll(engine, ann, { view: { rule: 'mine' } })).docs).toEqual([]);
      });

      it('default requests: unruled collections whole, ruled ones through the default views only (pull, full, stream)', async () => {
        const s = scope();
        const ann = actor('ann', s);
        await engine.write(s, [
          { collection: 'tasks', id: 'a', op: 'upsert', data: { title: 'a', assignee: 'ann' } },
          { collection: 'tasks', id: 'b', op: 'upsert', data: { title: 'b', assignee: 'bob' } },
          { collection: 'parts', id: 'p', op: 'upsert', data: { name: 'bolt' } },
          { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'hello' } },
        ]);
        const pulled = await engine.pull(ann, {});
        expect(pulled.changes.map((c) => `${c.collection}/${c.id}`).sort()).toEqual([
          'notes/n',
          'tasks/a',
        ]);
        // Checksums only for collections read whole.
        expect(Object.keys(pulled.checksums ?? {})).not.toContain('tasks');
        const full = await fullAll(engine, ann, {}, 1);
        expect(full.docs.map((d) => `${d.collection}/${d.id}`)).toEqual(['notes/n', 'tasks/a']);
        expect((await engine.pull(ann, { collections: ['parts'] })).changes).toEqual([]);
        const events = reader(engine.stream(ann, {}));
        const first = await events.next();
        expect(first.type === 'changes' && first.changes.map((c) => c.id).sort()).toEqual([
          'a',
          'n',
        ]);
        await engine.write(s, [
          { collection: 'tasks', id: 'b', op: 'patch', data: { title: 'still bob' } },
        ]);
        await engine.write(s, [
          { collection: 'tasks', id: 'a', op: 'patch', data: { assignee: 'bob' } },
        ]);
        const live = await events.next();
        expect(live.type === 'changes' && live.changes).toEqual([
          {
            collection: 'tasks',
            id: 'a',
            op: 'delete',
            data: null,
            version: expect.any(String),
            left: true,
          },
        ]);
        await events.close();
        // An engine without default views shows nothing of ruled collections by default.
        const bare = viewsEngine(store, members, { defaultViews: undefined });
        expect((await bare.pull(ann, {})).changes.map((c) => c.collection)).toEqual(['notes']);
        expect((await fullAll(bare, ann, {})).docs.map((d) => d.collection)).toEqual(['notes']);
        await bare.close();
      });

      it('full with a view pages its live matching documents (no tombstones); pulling from its checkpoint converges', async () => {
        const s = scope();
        const ann = actor('ann', s);
        const changes = Array.from({ length: 30 }, (_, i) => ({
          collection: 'tasks' as const,
          id: `t${String(i).padStart(2, '0')}`,
          op: 'upsert' as const,
          data: { title: `t${i}`, assignee: i % 3 === 0 ? 'ann' : 'bob' },
        }));
        await engine.write(s, changes);
        await engine.write(s, [{ collection: 'tasks', id: 't03', op: 'delete' }]);
        const full = await fullAll(engine, ann, { view: { rule: 'mine' } }, 4);
        expect(full.docs.map((d) => d.id)).toEqual([
          't00',
          't06',
          't09',
          't12',
          't15',
          't18',
          't21',
          't24',
          't27',
        ]);
        expect(full.docs.every((d) => !d.deleted && d.data?.assignee === 'ann')).toBe(true);
        await engine.write(s, [
          { collection: 'tasks', id: 't00', op: 'patch', data: { assignee: 'bob' } },
          { collection: 'tasks', id: 't01', op: 'patch', data: { assignee: 'ann' } },
        ]);
        const next = await engine.pull(ann, { view: { rule: 'mine' }, since: full.checkpoint });
        expect(next.changes.map((c) => [c.id, c.op, c.left ?? false])).toEqual([
          ['t00', 'delete', true],
          ['t01', 'upsert', false],
        ]);
      });

      it('a stream with a view: catch-up and live commits filtered, moves in and out', async () => {
        const s = scope();
        const ann = actor('ann', s);
        members.grant('ann', 'p1');
        await engine.write(s, [
          { collection: 'tasks', id: 'x', op: 'upsert', data: { title: 'x', projectId: 'p1' } },
          { collection: 'tasks', id: 'y', op: 'upsert', data: { title: 'y', projectId: 'p2' } },
        ]);
        const events = reader(
          engine.stream(ann, { view: { rule: 'project', params: { projectId: 'p1' } } }),
        );
        const first = await events.next();
        expect(first.type === 'changes' && first.changes.map((c) => c.id)).toEqual(['x']);
        await engine.write(s, [
          { collection: 'tasks', id: 'y', op: 'patch', data: { title: 'y2' } },
        ]);
        await engine.write(s, [
          { collection: 'tasks', id: 'y', op: 'patch', data: { projectId: 'p1' } },
        ]);
        const moveIn = await events.next();
        expect(moveIn.type === 'changes' && moveIn.changes).toEqual([
          {
            collection: 'tasks',
            id: 'y',
            op: 'upsert',
            data: { title: 'y2', projectId: 'p1' },
            version: expect.any(String),
          },
        ]);
        await engine.write(s, [
          { collection: 'tasks', id: 'x', op: 'patch', data: { projectId: 'p3' } },
        ]);
        const moveOut = await events.next();
        expect(
          moveOut.type === 'changes' && moveOut.changes.map((c) => [c.id, c.op, c.left]),
        ).toEqual([['x', 'delete', true]]);
        await engine.write(s, [{ collection: 'tasks', id: 'y', op: 'delete' }]);
        const deleted = await events.next();
        expect(
          deleted.type === 'changes' && deleted.changes.map((c) => [c.id, c.op, c.left]),
        ).toEqual([['y', 'delete', undefined]]);
        await events.close();
      });

      it("refreshViews: a grant makes that user's view pulls and streams resync, the rebuild delivers; other users and views are untouched", async () => {
        const s = scope();
        const ann = actor('ann-r', s);
        const bob = actor('bob-r', s);
        await engine.write(s, [
          { collection: 'tasks', id: 'q1', op: 'upsert', data: { title: 'q1', projectId: 'pq' } },
          {
            collection: 'tasks',
            id: 'q2',
            op: 'upsert',
            data: { title: 'q2', projectId: 'pz', assignee: 'ann-r' },
          },
        ]);
        const before = await engine.pull(ann, { view: { rule: 'team' } });
        expect(before.changes).toEqual([]);
        const mineBefore = await engine.pull(ann, { view: { rule: 'mine' } });
        const bobBefore = await engine.pull(bob, { view: { rule: 'team' } });
        const defaultBefore = await engine.pull(ann, {});
        const events = reader(
          engine.stream(ann, { view: { rule: 'team' }, since: before.checkpoint }),
        );
        const bobEvents = reader(
          engine.stream(bob, { view: { rule: 'team' }, since: bobBefore.checkpoint }),
        );
        members.grant('ann-r', 'pq');
        await engine.refreshViews({ scopeId: s, userId: 'ann-r' });
        expect(await events.next()).toEqual({
          type: 'resync_required',
          message: expect.stringContaining('refreshViews'),
        });
        expect(await events.ended()).toBe(true);
        expect(
          (await refused(engine.pull(ann, { view: { rule: 'team' }, since: before.checkpoint })))
            .code,
        ).toBe('RESYNC_REQUIRED');
        expect(
          (
            await refused(
              engine.pull(ann, { view: { rule: 'mine' }, since: mineBefore.checkpoint }),
            )
          ).code,
        ).toBe('RESYNC_REQUIRED');
        expect((await refused(engine.pull(ann, { since: defaultBefore.checkpoint }))).code).toBe(
          'RESYNC_REQUIRED',
        );
        // Bob's views go on: his pull answers, his stream stays open and live.
        expect(
          (await engine.pull(bob, { view: { rule: 'team' }, since: bobBefore.checkpoint })).changes,
        ).toEqual([]);
        const rebuilt = await fullAll(engine, ann, { view: { rule: 'team' } });
        expect(rebuilt.docs.map((d) => d.id)).toEqual(['q1']);
        expect(
          (await engine.pull(ann, { view: { rule: 'team' }, since: rebuilt.checkpoint })).changes,
        ).toEqual([]);
        members.grant('bob-r', 'pz');
        await engine.write(s, [
          { collection: 'tasks', id: 'q3', op: 'upsert', data: { title: 'q3', projectId: 'pq' } },
        ]);
        await engine.refreshViews({ scopeId: s, userId: 'bob-r' });
        expect(await bobEvents.next()).toMatchObject({ type: 'resync_required' });
        // Revoke: the rebuild no longer holds the project's documents (the client sweeps them).
        members.revoke('ann-r', 'pq');
        await engine.refreshViews({ scopeId: s, userId: 'ann-r' });
        expect(
          (await refused(engine.pull(ann, { view: { rule: 'team' }, since: rebuilt.checkpoint })))
            .code,
        ).toBe('RESYNC_REQUIRED');
        expect((await fullAll(engine, ann, { view: { rule: 'team' } })).docs).toEqual([]);
        await bobEvents.close();
      });

      it('refreshViews reaches a stream served by another engine (another process on the same database)', async () => {
        const s = scope();
        const other = viewsEngine(await peer(), members);
        try {
          const ann = actor('ann-x', s);
          await engine.write(s, [
            {
              collection: 'tasks',
              id: 'x1',
              op: 'upsert',
              data: { title: 'x1', assignee: 'ann-x' },
            },
          ]);
          const events = reader(other.stream(ann, { view: { rule: 'mine' } }));
          expect((await events.next()).type).toBe('changes');
          await engine.write(s, [
            {
              collection: 'tasks',
              id: 'x2',
              op: 'upsert',
              data: { title: 'x2', assignee: 'ann-x' },
            },
          ]);
          expect(await events.next()).toMatchObject({ type: 'changes', changes: [{ id: 'x2' }] });
          await engine.refreshViews({ scopeId: s, userId: 'ann-x' });
          expect(await events.next()).toMatchObject({ type: 'resync_required' });
        } finally {
          await other.close();
        }
      });

      it('gap-free per view: opening another view while one is live loses and duplicates nothing of the live one', async () => {
        const s = scope();
        const ann = actor('ann-g', s);
        members.grant('ann-g', 'pg');
        const start = await engine.pull(ann, { view: { rule: 'mine' } });
        const live = reader(
          engine.stream(ann, { view: { rule: 'mine' }, since: start.checkpoint }),
        );
        const writes = (async () => {
          for (let i = 0; i < 30; i++) {
            await engine.write(s, [
              {
                collection: 'tasks',
                id: `g${i % 7}`,
                op: 'upsert',
                data: {
                  title: `v${i}`,
                  assignee: i % 3 === 0 ? 'bob' : 'ann-g',
                  projectId: i % 2 ? 'pg' : 'other',
                },
              },
            ]);
          }
          await engine.write(s, [
            { collection: 'notes', id: 'fence', op: 'upsert', data: { body: 'end' } },
          ]);
          await engine.write(s, [
            {
              collection: 'tasks',
              id: 'fence',
              op: 'upsert',
              data: { title: 'end', assignee: 'ann-g' },
            },
          ]);
        })();
        // Meanwhile: a second view is built and tailed.
        const team = await fullAll(engine, ann, { view: { rule: 'team' } }, 2);
        const teamStream = reader(
          engine.stream(ann, { view: { rule: 'team' }, since: team.checkpoint }),
        );
        await writes;
        const replay = (
          await pullAll(engine, ann, { view: { rule: 'mine' }, since: start.checkpoint, limit: 1 })
        ).changes;
        const streamed = new Map<string, ChangeOut>();
        let events = 0;
        while (!streamed.has('fence')) {
          const e = await live.next();
          if (e.type !== 'changes') continue;
          events++;
          for (const c of e.changes) {
            // Never the same version twice, never an older one: no duplicates.
            const previous = streamed.get(c.id);
            if (previous)
              expect(
                c.version > previous.version,
                `${c.id} ${previous.version} → ${c.version}`,
              ).toBe(true);
            streamed.set(c.id, c);
          }
        }
        expect(events).toBeGreaterThan(0);
        // The live view's end state equals a replay of the same range by pull.
        const final = (list: Iterable<ChangeOut>) =>
          new Map([...list].map((c) => [c.id, c.op === 'upsert' ? c.data : null]));
        expect(final(streamed.values())).toEqual(final(replay));
        await live.close();
        await teamStream.close();
      });

      it('refused views name the problem and read nothing', async () => {
        const s = scope();
        const ann = actor('ann-h', s);
        const unknown = await refused(engine.pull(ann, { view: { rule: 'everything' } }));
        expect([unknown.code, unknown.issues[0]?.path]).toEqual(['BAD_REQUEST', 'view.rule']);
        expect(unknown.message).toContain('everything');
        const proto = await refused(engine.full(ann, { view: { rule: '__proto__' } }));
        expect([proto.code, proto.issues[0]?.path]).toEqual(['BAD_REQUEST', 'view.rule']);
        const params = await refused(
          engine.pull(ann, { view: { rule: 'project', params: { projectId: 7 } } }),
        );
        expect([params.code, params.issues[0]?.path]).toEqual([
          'BAD_REQUEST',
          'view.params.projectId',
        ]);
        const missing = await refused(engine.full(ann, { view: { rule: 'project' } }));
        expect([missing.code, missing.issues[0]?.path]).toEqual([
          'BAD_REQUEST',
          'view.params.projectId',
        ]);
        const extra = await refused(
          engine.pull(ann, { view: { rule: 'mine', params: { assignee: 'bob' } } }),
        );
        expect([extra.code, extra.issues[0]?.path]).toEqual(['BAD_REQUEST', 'view.params']);
        const forbidden = await refused(
          engine.pull(ann, { view: { rule: 'project', params: { projectId: 'not-mine' } } }),
        );
        expect(forbidden.code).toBe('FORBIDDEN');
        const streamForbidden = await refused(
          reader(
            engine.stream(ann, { view: { rule: 'project', params: { projectId: 'not-mine' } } }),
          ).next(),
        );
        expect(streamForbidden.code).toBe('FORBIDDEN');
        const wrongCollections = await refused(
          engine.pull(ann, { view: { rule: 'mine' }, collections: ['notes'] }),
        );
        expect([wrongCollections.code, wrongCollections.issues[0]?.path]).toEqual([
          'BAD_REQUEST',
          'collections',
        ]);
        const malformed = await refused(engine.pull(ann, { view: { rule: 5 } }));
        expect([malformed.code, malformed.issues[0]?.path]).toEqual(['BAD_REQUEST', 'view.rule']);
        const undeclaredField = await refused(engine.pull(ann, { view: { rule: 'broken' } }));
        expect(undeclaredField.message).toContain('undeclared field "title"');
        expect(undeclaredField.message).toContain('broken');
        const plain = createSyncEngine({
          store,
          schema: viewsSchema,
          retention: { pruneIntervalMs: 0 },
        });
        const noRules = await refused(plain.pull(ann, { view: { rule: 'mine' } }));
        expect([noRules.code, noRules.issues[0]?.path]).toEqual(['BAD_REQUEST', 'view.rule']);
        await plain.close();
      });

      it('rules are checked at start-up: unknown collection, bad field name, unknown default view', () => {
        expect(() =>
          createSyncEngine({ store, schema: viewsSchema, rules: { x: { collection: 'nope' } } }),
        ).toThrow(/rules\.x names unknown collection "nope"/);
        expect(() =>
          createSyncEngine({
            store,
            schema: viewsSchema,
            rules: { x: { collection: 'tasks', fields: ['a.b'] } },
          }),
        ).toThrow(/rules\.x\.fields/);
        expect(() =>
          createSyncEngine({
            store,
            schema: viewsSchema,
            rules: { x: { collection: 'tasks', fields: [] } },
            defaultViews: ['y' as 'x'],
          }),
        ).toThrow(/defaultViews names unknown rule "y"/);
      });
    },
  );
}
