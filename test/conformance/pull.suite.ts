/** Conformance: pull paging, latest state per document, retention and resync. */
import { describe, expect, it } from 'vitest';
import { encodeCheckpoint } from '../../shared/checkpoint.js';
import {
  expectSyncError,
  makeEngine,
  newActor,
  pullAll,
  type ConformanceOptions,
  type useStore,
} from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

export function pullSuite(ctx: Ctx, options: ConformanceOptions): void {
  describe('pull', () => {
    it('returns each document once, in its latest state, and pages with hasMore', async () => {
      const actor = newActor();
      const engine = ctx.engine();
      for (let i = 0; i < 6; i++) {
        await engine.push(actor, {
          clientId: 'a',
          changes: [
            {
              mutationId: i * 2 + 1,
              collection: 'tasks',
              id: `t${i}`,
              op: 'upsert',
              data: { title: `v1-${i}` },
            },
            {
              mutationId: i * 2 + 2,
              collection: 'tasks',
              id: 't0',
              op: 'patch',
              data: { priority: i },
            },
          ],
        });
      }
      await engine.push(actor, {
        clientId: 'a',
        changes: [{ mutationId: 100, collection: 'tasks', id: 't5', op: 'delete' }],
      });
      const all = await engine.pull(actor, {});
      expect(all.hasMore).toBe(false);
      expect(all.changes.filter((c) => c.id === 't0')).toHaveLength(1);
      expect(all.changes.find((c) => c.id === 't0')!.data).toEqual({
        title: 'v1-0',
        done: false,
        priority: 5,
      });
      expect(all.changes.find((c) => c.id === 't5')).toMatchObject({ op: 'delete', data: null });
      const paged = await pullAll(engine, actor, null, 3);
      expect(paged.pages).toBeGreaterThan(1);
      const latest = new Map(paged.changes.map((c) => [c.id, c]));
      expect([...latest.values()].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        [...all.changes].sort((a, b) => a.id.localeCompare(b.id)),
      );
      // Nothing new after the last checkpoint.
      const again = await engine.pull(actor, { since: paged.checkpoint });
      expect(again).toMatchObject({ changes: [], hasMore: false, checkpoint: paged.checkpoint });
    });

    it('filters by collection', async () => {
      const actor = newActor();
      await ctx.engine().push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'x' } },
          { mutationId: 2, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'y' } },
        ],
      });
      const res = await ctx.engine().pull(actor, { collections: ['notes'] });
      expect(res.changes.map((c) => c.id)).toEqual(['n1']);
    });

    it('never cuts a push: a page grows past the limit to keep a push whole', async () => {
      const actor = newActor();
      const changes = Array.from({ length: 9 }, (_, i) => ({
        mutationId: i + 1,
        collection: 'tasks' as const,
        id: `t${i}`,
        op: 'upsert' as const,
        data: { title: String(i) },
      }));
      await ctx.engine().push(actor, { clientId: 'a', changes });
      await ctx.engine().push(actor, {
        clientId: 'a',
        changes: [
          {
            mutationId: 20,
            collection: 'tasks',
            id: 'after',
            op: 'upsert',
            data: { title: 'z' },
          },
        ],
      });
      const first = await ctx.engine().pull(actor, { limit: 4 });
      expect(first.changes).toHaveLength(9);
      expect(first.hasMore).toBe(true);
      const second = await ctx.engine().pull(actor, { since: first.checkpoint, limit: 4 });
      expect(second.changes.map((c) => c.id)).toEqual(['after']);
      expect(second.hasMore).toBe(false);
    });

    it('answers RESYNC_REQUIRED for a checkpoint older than the retained history, after prune()', async () => {
      const actor = newActor();
      const engine = ctx.engine();
      await engine.push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'x' } },
        ],
      });
      const old = await engine.pull(actor, {});
      await engine.push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 2, collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'y' } },
        ],
      });
      const current = await engine.pull(actor, { since: old.checkpoint });
      const removed = await engine.prune({ before: new Date(Date.now() + 60_000) });
      expect(removed.removed).toBeGreaterThanOrEqual(2);
      const err = await expectSyncError(
        engine.pull(actor, { since: old.checkpoint }),
        'RESYNC_REQUIRED',
      );
      expect(err.status).toBe(409);
      await expectSyncError(engine.pull(actor, {}), 'RESYNC_REQUIRED');
      // A client that is up to date is not disturbed.
      expect((await engine.pull(actor, { since: current.checkpoint })).changes).toEqual([]);
      // The stream says so too, then ends.
      const events = [];
      for await (const ev of engine.stream(actor, { since: old.checkpoint })) events.push(ev);
      expect(events).toEqual([expect.objectContaining({ type: 'resync_required' })]);
      // Full still rebuilds the client.
      expect((await engine.full(actor, {})).docs.map((d) => d.id)).toEqual(['t1', 't2']);
    });

    it('answers RESYNC_REQUIRED for a checkpoint of another database or from the future', async () => {
      const actor = newActor();
      await expectSyncError(
        ctx.engine().pull(actor, { since: encodeCheckpoint({ epoch: 'otherdb', seq: 1 }) }),
        'RESYNC_REQUIRED',
      );
      await expectSyncError(
        ctx
          .engine()
          .pull(actor, { since: encodeCheckpoint({ epoch: ctx.store().epoch(), seq: 99 }) }),
        'RESYNC_REQUIRED',
      );
    });

    if (options.reopen) {
      it('keeps documents and checkpoints across a restart of the store', async () => {
        const actor = newActor();
        await ctx.engine().push(actor, {
          clientId: 'a',
          changes: [
            {
              mutationId: 1,
              collection: 'tasks',
              id: 't1',
              op: 'upsert',
              data: { title: 'durable' },
            },
          ],
        });
        const before = await ctx.engine().pull(actor, {});
        await ctx.engine().close();
        const reopened = await options.reopen!(ctx.store());
        ctx.setStore(reopened);
        const engine = makeEngine(reopened);
        expect((await engine.pull(actor, { since: before.checkpoint })).changes).toEqual([]);
        expect((await engine.full(actor, {})).docs[0]!.data).toEqual({
          title: 'durable',
          done: false,
        });
        const retry = await engine.push(actor, {
          clientId: 'a',
          changes: [
            {
              mutationId: 1,
              collection: 'tasks',
              id: 't1',
              op: 'upsert',
              data: { title: 'durable' },
            },
          ],
        });
        expect(retry.results[0]!.status).toBe('duplicate');
        await engine.close();
      }, 60_000);
    }
  });
}
