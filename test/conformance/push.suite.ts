/** Conformance: push statuses, exactly-once retries, server clock and server-side writes. */
import { describe, expect, it } from 'vitest';
import { newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

export function pushSuite(ctx: Ctx): void {
  describe('push', () => {
    it('accepts new documents and reports each version', async () => {
      const actor = newActor();
      const res = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'Buy milk' } },
          { mutationId: 2, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'hello' } },
        ],
      });
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      expect(res.results[0]!.version).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{4}-/);
      const page = await ctx.engine().pull(actor, {});
      expect(page.changes.find((c) => c.id === 't1')!.data).toEqual({ title: 'Buy milk', done: false });
    });

    it('applies a push retried three times exactly once and answers the original outcome', async () => {
      const actor = newActor();
      const push = { clientId: 'd1', changes: [
        { mutationId: 7, collection: 'tasks', id: 't1', op: 'upsert' as const, data: { title: 'a' } },
        { mutationId: 8, collection: 'tasks', id: 't1', op: 'patch' as const, data: { done: true } },
      ] };
      const first = await ctx.engine().push(actor, push);
      const retries = await Promise.all([ctx.engine().push(actor, push), ctx.engine().push(actor, push), ctx.engine().push(actor, push)]);
      for (const retry of retries) {
        expect(retry.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
        expect(retry.results.map((r) => r.original)).toEqual(['accepted', 'accepted']);
        expect(retry.results.map((r) => r.version)).toEqual(first.results.map((r) => r.version));
      }
      const head = await ctx.store().head(actor.scopeId);
      expect(head.seq).toBe(1);
      const oplog = await ctx.store().readOplog(actor.scopeId, { afterSeq: 0 });
      expect(oplog).toHaveLength(2);
    });

    it('answers lower or repeated mutation ids as duplicates without applying them', async () => {
      const actor = newActor();
      await ctx.engine().push(actor, { clientId: 'd1', changes: [{ mutationId: 10, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'v1' } }] });
      const res = await ctx.engine().push(actor, {
        clientId: 'd1',
        changes: [
          { mutationId: 5, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'older id' } },
          { mutationId: 10, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'same id' } },
          { mutationId: 11, collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'new' } },
        ],
      });
      expect(res.results.map((r) => r.status)).toEqual(['duplicate', 'duplicate', 'accepted']);
      expect(res.results[0]!.original).toBeUndefined(); // never applied: no recorded outcome
      const { changes } = await ctx.engine().pull(actor, {});
      expect(changes.find((c) => c.id === 't1')!.data).toMatchObject({ title: 'v1' });
      // Another client's ids are its own.
      const other = await ctx.engine().push(actor, { clientId: 'd2', changes: [{ mutationId: 1, collection: 'tasks', id: 't3', op: 'upsert', data: { title: 'x' } }] });
      expect(other.results[0]!.status).toBe('accepted');
    });

    it('reports conflict_resolved with the stored document when a newer write wins', async () => {
      const actor = newActor();
      await ctx.engine().push(actor, { clientId: 'd1', changes: [{ mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'new' }, hlc: '20260502T120000.000Z-0000-aaaa' }] });
      const res = await ctx.engine().push(actor, { clientId: 'd2', changes: [{ mutationId: 1, collection: 'tasks', id: 't1', op: 'patch', data: { title: 'old', done: true }, hlc: '20260501T120000.000Z-0000-bbbb' }] });
      expect(res.results[0]!.status).toBe('conflict_resolved');
      expect(res.results[0]!.doc).toEqual({ title: 'new', done: false });
    });

    it('stamps a change whose clock is too far ahead with the server clock', async () => {
      const actor = newActor();
      const future = '20990101T000000.000Z-0000-fut1';
      const res = await ctx.engine().push(actor, { clientId: 'd1', changes: [{ mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'x' }, hlc: future }] });
      expect(res.results[0]!.version).not.toBe(future);
      expect(res.results[0]!.version! < '2099').toBe(true);
      expect(res.serverTime < '2099').toBe(true);
    });

    it('restamps a change whose HLC is not above an earlier change of the same push to the same document', async () => {
      const actor = newActor();
      const hlc = '20260502T120000.000Z-0000-same';
      const res = await ctx.engine().push(actor, { clientId: 'd1', changes: [
        { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'first' }, hlc },
        { mutationId: 2, collection: 'tasks', id: 't1', op: 'patch', data: { title: 'second' }, hlc },
      ] });
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      expect(res.results[0]!.version).toBe(hlc);
      expect(res.results[1]!.version! > hlc).toBe(true);
      expect((await ctx.engine().full(actor, {})).docs[0]!.data).toEqual({ title: 'second', done: false });
    });

    it('writes from the server get versions, oplog entries and reach pulls', async () => {
      const actor = newActor();
      const res = await ctx.engine().write(actor.scopeId, [
        { collection: 'tasks', id: 'job-1', op: 'upsert', data: { title: 'from a job' } },
        { collection: 'tasks', id: 'job-1', op: 'patch', data: { priority: 2 } },
      ]);
      expect(res.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
      const { changes } = await ctx.engine().pull(actor, {});
      expect(changes).toEqual([expect.objectContaining({ id: 'job-1', data: { title: 'from a job', done: false, priority: 2 } })]);
    });
  });
}
