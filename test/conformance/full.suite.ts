/** Conformance: full export pages, tombstones, and convergence with writes during the export. */
import { describe, expect, it } from 'vitest';
import type { ChangeOut, FullDoc } from '../../shared/protocol.js';
import { fullExport, newActor, pullAll, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;
const DOCS = 20_000;

export function fullSuite(ctx: Ctx): void {
  describe('full', () => {
    it(`exports ${DOCS} documents in pages; writes during the export converge after a pull from its checkpoint`, async () => {
      const actor = newActor('full');
      const engine = ctx.engine();
      for (let b = 0; b < DOCS / 1000; b++) {
        const changes = Array.from({ length: 1000 }, (_, i) => ({
          mutationId: b * 1000 + i + 1,
          collection: 'tasks' as const,
          id: `t${String(b * 1000 + i).padStart(5, '0')}`,
          op: 'upsert' as const,
          data: { title: `task ${b * 1000 + i}` },
        }));
        await engine.push(actor, { clientId: 'seed', changes });
      }
      const replica = new Map<string, FullDoc | ChangeOut>();
      let cursor: string | null = null;
      let checkpoint = '';
      let pages = 0;
      let mutation = 0;
      do {
        const page = await engine.full(actor, { cursor, limit: 1000 });
        if (checkpoint) expect(page.checkpoint).toBe(checkpoint); // the same on every page
        checkpoint = page.checkpoint;
        for (const d of page.docs) replica.set(d.id, d);
        cursor = page.cursor;
        pages++;
        // Writes land behind and ahead of the export's position.
        const n = pages * 997;
        await engine.push(actor, {
          clientId: 'writer',
          changes: [
            {
              mutationId: ++mutation,
              collection: 'tasks',
              id: `t${String(n % DOCS).padStart(5, '0')}`,
              op: 'patch',
              data: { done: true },
            },
            {
              mutationId: ++mutation,
              collection: 'tasks',
              id: `t${String((n * 7) % DOCS).padStart(5, '0')}`,
              op: 'delete',
            },
            {
              mutationId: ++mutation,
              collection: 'tasks',
              id: `new-${pages}`,
              op: 'upsert',
              data: { title: 'created during export' },
            },
          ],
        });
      } while (cursor);
      expect(pages).toBeGreaterThanOrEqual(DOCS / 1000);
      const { changes } = await pullAll(engine, actor, checkpoint);
      expect(changes.length).toBeGreaterThan(0);
      for (const c of changes) replica.set(c.id, c);
      const truth = (await fullExport(engine, actor, 5000)).docs;
      const live = (d: FullDoc | ChangeOut) => ('deleted' in d ? !d.deleted : d.op !== 'delete');
      const mine = [...replica.values()]
        .filter(live)
        .map((d) => [d.id, d.data, d.version])
        .sort();
      const theirs = truth
        .filter(live)
        .map((d) => [d.id, d.data, d.version])
        .sort();
      expect(mine).toEqual(theirs);
      expect(truth.filter((d) => d.deleted).length).toBeGreaterThan(0); // tombstones are exported
    }, 300_000);

    it('exports tombstones with data null and filters by collection', async () => {
      const actor = newActor();
      await ctx.engine().push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'x' } },
          { mutationId: 2, collection: 'tasks', id: 't1', op: 'delete' },
          { mutationId: 3, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'b' } },
        ],
      });
      const all = await fullExport(ctx.engine(), actor, 1);
      expect(all.docs.map((d) => [d.collection, d.id, d.deleted, d.data])).toEqual([
        ['notes', 'n1', false, { body: 'b' }],
        ['tasks', 't1', true, null],
      ]);
      const notes = await ctx.engine().full(actor, { collections: ['tasks'] });
      expect(notes.docs.map((d) => d.id)).toEqual(['t1']);
    });

    it('pages ids in code point (UTF-8 byte) order, the order of every store: astral ids after U+FF01', async () => {
      // The same order the client's local stores use (test/local-stores/conformance.ts); JavaScript's `<` would put 😀 before ！.
      const order = [
        'A',
        'a',
        'a\uff01',
        'a\u{10000}',
        'a😀',
        'z',
        'é',
        '\ud7ff',
        '\ue000',
        '\uff01',
        '\uff01!',
        '😀',
        '😀!',
        '\u{10ffff}',
      ];
      const actor = newActor('order');
      const shuffled = [...order].reverse();
      await ctx.engine().push(actor, {
        clientId: 'order',
        changes: shuffled.map((id, i) => ({
          mutationId: i + 1,
          collection: 'tasks' as const,
          id,
          op: 'upsert' as const,
          data: { title: id },
        })),
      });
      for (const limit of [1, 3, 100])
        expect((await fullExport(ctx.engine(), actor, limit)).docs.map((d) => d.id)).toEqual(order);
    });
  });
}
