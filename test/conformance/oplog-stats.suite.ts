/** Conformance: `oplogStats()` counts the oplog (all scopes), spans its commit times, and follows prune(). */
import { describe, expect, it } from 'vitest';
import { newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

/**
 * Whether `kind` answers an estimate: MongoDB always does (collection metadata, estimatedDocumentCount);
 * memory, PGlite and PostgreSQL count exactly below exactCountLimit (100,000), far above these tests.
 */
const estimates = (kind: string) => kind === 'mongodb';

export function oplogStatsSuite(ctx: Ctx): void {
  describe('oplogStats', () => {
    it('counts every applied change of every scope and spans their commit times', async () => {
      const engine = ctx.engine();
      const store = ctx.store();
      const before = await store.oplogStats();
      const started = Date.now();
      const [a, b] = [newActor(), newActor()];
      await engine.push(a, {
        clientId: 'a',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'one' } },
          { mutationId: 2, collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'two' } },
          { mutationId: 3, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'x' } },
        ],
      });
      await engine.push(b, {
        clientId: 'b',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'b' } },
        ],
      });
      await engine.push(b, {
        clientId: 'b',
        changes: [{ mutationId: 2, collection: 'tasks', id: 't1', op: 'delete' }],
      });
      // A retried push is answered from the ledger and appends nothing.
      await engine.push(b, {
        clientId: 'b',
        changes: [{ mutationId: 2, collection: 'tasks', id: 't1', op: 'delete' }],
      });
      const after = await store.oplogStats();
      expect(after.estimated).toBe(estimates(store.kind));
      // An estimate from metadata still saw the five appends; an exact count is exactly five more.
      if (after.estimated) expect(after.entries).toBeGreaterThanOrEqual(before.entries + 5);
      else expect(after.entries).toBe(before.entries + 5);
      expect(after.newestAt).toBeInstanceOf(Date);
      expect(after.oldestAt).toBeInstanceOf(Date);
      expect(after.newestAt!.getTime()).toBeGreaterThanOrEqual(started - 1000);
      expect(after.newestAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect(after.oldestAt!.getTime()).toBeLessThanOrEqual(after.newestAt!.getTime());
      if (before.oldestAt) expect(after.oldestAt!.getTime()).toBe(before.oldestAt.getTime());
    });

    it('drops what prune() removed: an emptied oplog has no age span', async () => {
      const engine = ctx.engine();
      const store = ctx.store();
      const actor = newActor();
      await engine.push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'old' } },
        ],
      });
      const held = await store.oplogStats();
      expect(held.estimated).toBe(estimates(store.kind));
      expect(held.entries).toBeGreaterThan(0);
      const { removed } = await engine.prune({ before: new Date(Date.now() + 60_000) });
      expect(removed).toBeGreaterThan(0);
      const empty = await store.oplogStats();
      expect(empty.entries).toBe(0);
      expect(empty).toMatchObject({ oldestAt: null, newestAt: null });
      await engine.push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 2, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'new' } },
        ],
      });
      const one = await store.oplogStats();
      expect(one.entries).toBe(1);
      expect(one.oldestAt!.getTime()).toBe(one.newestAt!.getTime());
    });
  });
}
