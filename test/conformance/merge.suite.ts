/** Conformance: convergence (property-based), delete policies and custom resolvers. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeEngine, fullExport, newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

const hlcAt = (n: number, node: string) =>
  `20260502T12${String(Math.floor(n / 60)).padStart(2, '0')}${String(n % 60).padStart(2, '0')}.000Z-0000-${node}`;

const changeArb = fc.record({
  id: fc.constantFrom('x', 'y'),
  op: fc.constantFrom('upsert', 'patch', 'delete'),
  a: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
  b: fc.option(fc.constantFrom('p', 'q', null), { nil: undefined }),
  c: fc.option(fc.boolean(), { nil: undefined }),
});

export function mergeSuite(ctx: Ctx): void {
  describe('convergence', () => {
    it('random orders of the same changes converge to the same documents', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(changeArb, { minLength: 1, maxLength: 8 }),
          fc.infiniteStream(fc.nat()),
          async (raw, rand) => {
            run++;
            // Each change gets a distinct HLC (distinct devices), as real clients do.
            const changes = raw.map((c, i) => {
              const data: Record<string, unknown> = {};
              if (c.a !== undefined) data.a = c.a;
              if (c.b !== undefined && !(c.op === 'upsert' && c.b === null)) data.b = c.b;
              if (c.c !== undefined) data.c = c.c;
              return {
                collection: 'items' as const,
                id: c.id,
                op: c.op as 'upsert' | 'patch' | 'delete',
                data: c.op === 'delete' ? null : data,
                hlc: hlcAt(((i * 7) % 50) + i, `n${i}`),
              };
            });
            const shuffled = [...changes];
            const r = rand[Symbol.iterator]();
            for (let i = shuffled.length - 1; i > 0; i--) {
              const j = (r.next().value as number) % (i + 1);
              [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
            }
            const a = newActor(`conv${run}a`);
            const b = newActor(`conv${run}b`);
            const engine = ctx.engine();
            for (const [actor, list] of [
              [a, changes],
              [b, shuffled],
            ] as const) {
              for (const c of list) {
                await engine.push(actor, {
                  clientId: `dev-${c.hlc}`,
                  changes: [{ mutationId: 1, ...c }],
                });
              }
            }
            const strip = (docs: Awaited<ReturnType<typeof fullExport>>['docs']) =>
              docs.map(({ collection, id, data, version, deleted }) => ({
                collection,
                id,
                data,
                version,
                deleted,
              }));
            expect(strip((await fullExport(engine, b)).docs)).toEqual(
              strip((await fullExport(engine, a)).docs),
            );
          },
        ),
        { numRuns: 25 },
      );
    }, 120_000);
  });

  describe('delete policies', () => {
    const seed = async (
      engine: ReturnType<typeof makeEngine>,
      actor: ReturnType<typeof newActor>,
    ) => {
      await engine.push(actor, {
        clientId: 'a',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'keep me', priority: 1 },
            hlc: '20260502T120000.000Z-0000-aaaa',
          },
          {
            mutationId: 2,
            collection: 'tasks',
            id: 't1',
            op: 'delete',
            hlc: '20260502T120100.000Z-0000-aaaa',
          },
        ],
      });
    };

    it('resurrect_on_update (default): a later update brings the document back, an older one does not', async () => {
      const actor = newActor();
      const engine = ctx.engine();
      await seed(engine, actor);
      const older = await engine.push(actor, {
        clientId: 'b',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'patch',
            data: { done: true },
            hlc: '20260502T120030.000Z-0000-bbbb',
          },
        ],
      });
      expect(older.results[0]).toMatchObject({ status: 'conflict_resolved', doc: null });
      const later = await engine.push(actor, {
        clientId: 'b',
        changes: [
          {
            mutationId: 2,
            collection: 'tasks',
            id: 't1',
            op: 'patch',
            data: { done: true },
            hlc: '20260502T120200.000Z-0000-bbbb',
          },
        ],
      });
      expect(later.results[0]!.status).toBe('accepted');
      const { docs } = await fullExport(engine, actor);
      expect(docs[0]).toMatchObject({
        deleted: false,
        data: { title: 'keep me', priority: 1, done: true },
      });
    });

    it('reject_update: an update to a deleted document is rejected with DELETE_REJECTED', async () => {
      const actor = newActor();
      const engine = makeEngine(ctx.store(), { deletePolicy: { tasks: 'reject_update' } });
      await seed(engine, actor);
      const res = await engine.push(actor, {
        clientId: 'b',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'again' },
            hlc: '20260502T120200.000Z-0000-bbbb',
          },
          {
            mutationId: 2,
            collection: 'tasks',
            id: 't2',
            op: 'upsert',
            data: { title: 'other doc' },
          },
        ],
      });
      expect(res.results[0]).toMatchObject({
        status: 'rejected',
        error: { code: 'DELETE_REJECTED' },
      });
      expect(res.results[1]!.status).toBe('accepted'); // the batch still commits
      const { docs } = await fullExport(engine, actor);
      expect(docs.find((d) => d.id === 't1')).toMatchObject({ deleted: true, data: null });
      await engine.close();
    });

    it('delete_wins: a deleted document stays deleted whatever the update clock says', async () => {
      const actor = newActor();
      const engine = makeEngine(ctx.store(), { deletePolicy: 'delete_wins' });
      await seed(engine, actor);
      const res = await engine.push(actor, {
        clientId: 'b',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't1',
            op: 'patch',
            data: { done: true },
            hlc: '20260502T130000.000Z-0000-bbbb',
          },
        ],
      });
      expect(res.results[0]).toMatchObject({ status: 'conflict_resolved', doc: null });
      // A delete older than the last update still wins.
      await engine.push(actor, {
        clientId: 'c',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 't2',
            op: 'upsert',
            data: { title: 'x' },
            hlc: '20260502T140000.000Z-0000-cccc',
          },
        ],
      });
      await engine.push(actor, {
        clientId: 'c',
        changes: [
          {
            mutationId: 2,
            collection: 'tasks',
            id: 't2',
            op: 'delete',
            hlc: '20260502T100000.000Z-0000-cccc',
          },
        ],
      });
      const { docs } = await fullExport(engine, actor);
      expect(docs.map((d) => [d.id, d.deleted])).toEqual([
        ['t1', true],
        ['t2', true],
      ]);
      await engine.close();
    });
  });

  describe('custom resolvers', () => {
    it('replace field-level merge for their collection, receive current, incoming and base, and may reject', async () => {
      const actor = newActor();
      const seen: unknown[] = [];
      const engine = makeEngine(ctx.store(), {
        resolvers: {
          notes: ({ current, incoming, base }) => {
            seen.push({ current, incoming, base });
            if (incoming.body === 'forbidden') return { reject: 'this text is not allowed' };
            if (!current) return incoming;
            return { body: `${String(current.body)} | ${String(incoming.body)}` };
          },
        },
      });
      const v1 = await engine.push(actor, {
        clientId: 'a',
        changes: [
          { mutationId: 1, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'first' } },
        ],
      });
      expect(v1.results[0]!.status).toBe('accepted');
      const v2 = await engine.push(actor, {
        clientId: 'b',
        changes: [
          {
            mutationId: 1,
            collection: 'notes',
            id: 'n1',
            op: 'upsert',
            data: { body: 'second' },
            baseVersion: v1.results[0]!.version,
          },
        ],
      });
      expect(v2.results[0]).toMatchObject({
        status: 'conflict_resolved',
        doc: { body: 'first | second' },
      });
      expect(seen[1]).toEqual({
        current: { body: 'first' },
        incoming: { body: 'second' },
        base: { body: 'first' },
      });
      const rejected = await engine.push(actor, {
        clientId: 'b',
        changes: [
          {
            mutationId: 2,
            collection: 'notes',
            id: 'n1',
            op: 'upsert',
            data: { body: 'forbidden' },
          },
        ],
      });
      expect(rejected.results[0]).toMatchObject({
        status: 'rejected',
        error: { code: 'RESOLVER_REJECTED', message: 'this text is not allowed' },
      });
      const { docs } = await fullExport(engine, actor);
      expect(docs[0]!.data).toEqual({ body: 'first | second' });
      await engine.close();
    });

    it('authorize refuses single changes with FORBIDDEN and lets the rest commit', async () => {
      const actor = newActor();
      const engine = makeEngine(ctx.store(), {
        authorize: ({ change }) =>
          change.id.startsWith('locked') ? 'this document is locked' : true,
      });
      const res = await engine.push(actor, {
        clientId: 'a',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 'locked-1',
            op: 'upsert',
            data: { title: 'x' },
          },
          { mutationId: 2, collection: 'tasks', id: 'open-1', op: 'upsert', data: { title: 'y' } },
        ],
      });
      expect(res.results[0]).toMatchObject({
        status: 'rejected',
        error: { code: 'FORBIDDEN', message: 'this document is locked' },
      });
      expect(res.results[1]!.status).toBe('accepted');
      await engine.close();
    });
  });
}
