/** Conformance: concurrent writers and an incremental reader (gap-free, whole pushes, exactly once). */
import { describe, expect, it } from 'vitest';
import { newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

const PUSHERS = 50;
const PUSHES = 20;
const CHANGES = 5;
const ODD_LIMIT = 7;

export function concurrencySuite(ctx: Ctx): void {
  describe('concurrent pushes', () => {
    it(`${PUSHERS} pushers × ${PUSHES} pushes × ${CHANGES} changes: a concurrent puller at limit ${ODD_LIMIT} sees every change once and never part of a push`, async () => {
      const actor = newActor('load');
      const engine = ctx.engine();
      let writing = true;
      const seen = new Map<string, number>(); // doc id -> times seen
      const pageOf = new Map<string, number>(); // doc id -> pull page number
      let page = 0;
      const puller = (async () => {
        let since: string | null = null;
        for (;;) {
          const done = !writing;
          const res = await engine.pull(actor, { since, limit: ODD_LIMIT });
          page++;
          for (const c of res.changes) {
            seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
            pageOf.set(c.id, page);
          }
          since = res.checkpoint;
          if (done && !res.hasMore) return;
          if (!res.hasMore) await new Promise((r) => setTimeout(r, 1));
        }
      })();
      await Promise.all(
        Array.from({ length: PUSHERS }, async (_, p) => {
          for (let k = 0; k < PUSHES; k++) {
            const changes = Array.from({ length: CHANGES }, (_, c) => ({
              mutationId: k * CHANGES + c + 1,
              collection: 'tasks' as const,
              id: `p${p}-k${k}-c${c}`,
              op: 'upsert' as const,
              data: { title: `pusher ${p} push ${k} change ${c}` },
            }));
            const res = await engine.push(actor, { clientId: `pusher-${p}`, changes });
            expect(res.results.every((r) => r.status === 'accepted')).toBe(true);
          }
        }),
      );
      writing = false;
      await puller;
      expect(seen.size).toBe(PUSHERS * PUSHES * CHANGES);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      for (let p = 0; p < PUSHERS; p++) {
        for (let k = 0; k < PUSHES; k++) {
          const pages = new Set(
            Array.from({ length: CHANGES }, (_, c) => pageOf.get(`p${p}-k${k}-c${c}`)),
          );
          expect(pages.size, `push ${p}/${k} was split across pull pages`).toBe(1);
        }
      }
      const head = await ctx.store().head(actor.scopeId);
      expect(head.seq).toBe(PUSHERS * PUSHES); // one seq per committed push, no gaps
    }, 180_000);

    it('keeps both of two concurrent patches to different fields', async () => {
      const actor = newActor();
      const engine = ctx.engine();
      await engine.push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'start' } },
        ],
      });
      const results = await Promise.all([
        engine.push(actor, {
          clientId: 'a',
          changes: [
            {
              mutationId: 2,
              collection: 'tasks',
              id: 't1',
              op: 'patch',
              data: { title: 'renamed' },
            },
          ],
        }),
        engine.push(actor, {
          clientId: 'b',
          changes: [
            { mutationId: 1, collection: 'tasks', id: 't1', op: 'patch', data: { done: true } },
          ],
        }),
        engine.push(actor, {
          clientId: 'c',
          changes: [
            { mutationId: 1, collection: 'tasks', id: 't1', op: 'patch', data: { priority: 3 } },
          ],
        }),
      ]);
      expect(results.map((r) => r.results[0]!.status)).toEqual([
        'accepted',
        'accepted',
        'accepted',
      ]);
      const page = await engine.full(actor, {});
      expect(page.docs[0]!.data).toEqual({ title: 'renamed', done: true, priority: 3 });
    });
  });
}
