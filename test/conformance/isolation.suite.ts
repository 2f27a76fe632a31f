/** Conformance: tenant isolation on every operation, the stream included. */
import { describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../shared/protocol.js';
import { newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

export function isolationSuite(ctx: Ctx): void {
  describe('tenant isolation', () => {
    it('no operation of one scope returns or changes a document of another', async () => {
      const a = newActor('tenantA');
      const b = newActor('tenantB');
      const engine = ctx.engine();
      const ac = new AbortController();
      const bEvents: StreamEvent[] = [];
      const bStream = (async () => {
        for await (const ev of engine.stream(b, {}, ac.signal)) bEvents.push(ev);
      })();
      await new Promise((r) => setTimeout(r, 50));
      await engine.push(a, {
        clientId: 'd',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 'shared-id',
            op: 'upsert',
            data: { title: 'A secret' },
          },
        ],
      });
      const aCheckpoint = (await engine.pull(a, {})).checkpoint;
      // B sees nothing of A.
      expect((await engine.pull(b, {})).changes).toEqual([]);
      expect((await engine.full(b, {})).docs).toEqual([]);
      // B writing the same id makes B's own document; A's is untouched.
      const res = await engine.push(b, {
        clientId: 'd',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 'shared-id',
            op: 'patch',
            data: { title: 'B' },
          },
        ],
      });
      expect(res.results[0]!.status).toBe('accepted');
      await engine.push(b, {
        clientId: 'd',
        changes: [{ mutationId: 2, collection: 'tasks', id: 'shared-id', op: 'delete' }],
      });
      expect((await engine.full(a, {})).docs[0]).toMatchObject({
        id: 'shared-id',
        deleted: false,
        data: { title: 'A secret', done: false },
      });
      // Same client id and mutation ids in another scope are independent.
      const again = await engine.push(a, {
        clientId: 'd',
        changes: [
          { mutationId: 2, collection: 'notes', id: 'n', op: 'upsert', data: { body: 'a' } },
        ],
      });
      expect(again.results[0]!.status).toBe('accepted');
      // A checkpoint of A used by B leaks nothing.
      try {
        const page = await engine.pull(b, { since: aCheckpoint });
        expect(
          page.changes.every(
            (c) => c.data === null || (c.data as { title?: string }).title !== 'A secret',
          ),
        ).toBe(true);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('RESYNC_REQUIRED');
      }
      await new Promise((r) => setTimeout(r, 100));
      ac.abort();
      await bStream;
      const seenByB = bEvents.flatMap((e) => (e.type === 'changes' ? e.changes : []));
      expect(seenByB.length).toBeGreaterThan(0);
      expect(
        seenByB.every((c) => c.data === null || (c.data as { title?: string }).title === 'B'),
      ).toBe(true);
    });
  });
}
