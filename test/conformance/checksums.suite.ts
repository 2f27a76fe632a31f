/**
 * Conformance: integrity checksums. After random pushes, patches, deletes, resurrections,
 * non-atomic batches and server writes, the sums the store keeps equal the ones recomputed from
 * its documents, and the sums sent at a pull's last checkpoint equal what a replica of the pulled
 * changes computes (shared/checksum.ts, the same function the client uses).
 */
import { describe, expect, it } from 'vitest';
import { addSum, checksumHex, docHash, EMPTY_CHECKSUM } from '../../shared/checksum.js';
import type { ChangeInput } from '../../shared/protocol.js';
import { makeEngine, newActor, pullAll, type useStore } from './fixture.js';
import { mulberry32 } from '../mulberry32.js';

type Ctx = ReturnType<typeof useStore>;

const prng = mulberry32;

export function checksumsSuite(ctx: Ctx): void {
  describe('integrity checksums', () => {
    it('after random pushes and deletes the kept sums equal the recomputed ones, and pulls carry what a replica computes', async () => {
      const engine = ctx.engine();
      const seed = 1600 + Math.floor(Math.random() * 1000);
      const random = prng(seed);
      const actor = newActor('sums');
      const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'é', '😀'];
      const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
      let mutationId = 0;
      for (let round = 0; round < 25; round++) {
        const changes: ChangeInput[] = [];
        const n = 1 + Math.floor(random() * 4);
        for (let i = 0; i < n; i++) {
          const collection = pick(['tasks', 'notes', 'items'] as const);
          const id = pick(ids);
          const op = pick(['upsert', 'upsert', 'patch', 'delete'] as const);
          const data =
            op === 'delete'
              ? null
              : collection === 'tasks'
                ? op === 'upsert'
                  ? {
                      title: `t${round}.${i}`,
                      done: random() < 0.5,
                      tags: random() < 0.5 ? ['x', 'ü'] : undefined,
                    }
                  : { done: random() < 0.5 }
                : collection === 'notes'
                  ? { body: `n${round}.${i} "quoted" \\ ${'ß'.repeat(i)}` }
                  : op === 'upsert'
                    ? { a: round * 0.5, c: random() < 0.5 }
                    : { a: random() < 0.5 ? null : round, b: 'p' };
          changes.push({
            mutationId: ++mutationId,
            collection,
            id,
            op,
            data: data === null ? null : JSON.parse(JSON.stringify(data)),
          });
        }
        if (round % 7 === 3)
          await engine.write(
            actor.scopeId,
            changes.map(({ collection, id, op, data }) => ({
              collection: collection as 'tasks' | 'notes' | 'items',
              id,
              op,
              data,
            })),
          );
        else await engine.push(actor, { clientId: 'sums', atomic: round % 5 !== 0, changes });
      }
      const report = await engine.verifyChecksums(actor.scopeId);
      expect(report.mismatches, `seed ${seed}: ${JSON.stringify(report.collections)}`).toBe(0);
      expect(report.collections.length).toBeGreaterThan(0);

      // A replica of everything pulled computes the sums the last page carries.
      const { changes } = await pullAll(engine, actor, null, 7);
      const last = await engine.pull(actor, {});
      const replica = new Map<string, bigint>();
      const latest = new Map(changes.map((c) => [`${c.collection}\u0000${c.id}`, c]));
      for (const c of latest.values())
        if (c.op === 'upsert')
          replica.set(
            c.collection,
            addSum(replica.get(c.collection) ?? 0n, docHash(c.id, c.version, c.data!)),
          );
      expect(last.checksums, `seed ${seed}`).toEqual({
        items: checksumHex(replica.get('items') ?? 0n),
        notes: checksumHex(replica.get('notes') ?? 0n),
        tasks: checksumHex(replica.get('tasks') ?? 0n),
      });
      for (const verdict of report.collections)
        expect(last.checksums![verdict.collection]).toBe(verdict.kept);
    });

    it('concurrent pushes to one scope (8 writers, overlapping documents) leave kept sums equal to the recomputed ones', async () => {
      const engine = ctx.engine();
      const actor = newActor('sums');
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          for (let round = 0; round < 6; round++) {
            const changes: ChangeInput[] = [0, 1, 2].map((k) => {
              const id = `d${(w + round + k) % 5}`;
              const mutationId = round * 3 + k + 1;
              return k === 2 && round % 2 === 1
                ? { mutationId, collection: 'tasks', id, op: 'delete' as const }
                : {
                    mutationId,
                    collection: 'tasks',
                    id,
                    op: 'upsert' as const,
                    data: { title: `w${w} r${round} k${k}` },
                  };
            });
            await engine.push(actor, { clientId: `writer-${w}`, changes });
          }
        }),
      );
      const report = await engine.verifyChecksums(actor.scopeId);
      expect(report.mismatches, JSON.stringify(report.collections)).toBe(0);
    });

    it('checksums ride only on exact checkpoints: the last pull page, filtered to the asked collections; none on a page with more to come', async () => {
      const engine = ctx.engine();
      const actor = newActor('sums');
      await engine.push(actor, {
        clientId: 'c',
        changes: [1, 2, 3].map((n) => ({
          mutationId: n,
          collection: 'tasks',
          id: `t${n}`,
          op: 'upsert' as const,
          data: { title: `t${n}` },
        })),
      });
      await engine.push(actor, {
        clientId: 'c',
        changes: [
          { mutationId: 4, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'x' } },
        ],
      });
      const first = await engine.pull(actor, { limit: 1 });
      expect(first.hasMore).toBe(true);
      expect(first.checksums).toBeUndefined();
      const filtered = await engine.pull(actor, { collections: ['notes', 'items'] });
      expect(Object.keys(filtered.checksums ?? {}).sort()).toEqual(['items', 'notes']);
      expect(filtered.checksums!.items).toBe(EMPTY_CHECKSUM);
      expect(filtered.checksums!.notes).not.toBe(EMPTY_CHECKSUM);
      // Deleting every document brings a collection back to the empty sum.
      await engine.push(actor, {
        clientId: 'c',
        changes: [{ mutationId: 5, collection: 'notes', id: 'n1', op: 'delete' }],
      });
      expect((await engine.pull(actor, { collections: ['notes'] })).checksums).toEqual({
        notes: EMPTY_CHECKSUM,
      });
    });

    it('scopes keep their own sums, and integrity: false keeps and sends none', async () => {
      const engine = ctx.engine();
      const [a, b] = [newActor('sums'), newActor('sums')];
      await engine.push(a, {
        clientId: 'c',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'same' } },
        ],
      });
      expect((await engine.pull(b, {})).checksums?.tasks).toBe(EMPTY_CHECKSUM);
      expect((await engine.pull(a, {})).checksums?.tasks).not.toBe(EMPTY_CHECKSUM);

      const off = makeEngine(ctx.store(), { integrity: false });
      const c = newActor('sums');
      await off.push(c, {
        clientId: 'c',
        changes: [
          { mutationId: 1, collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'x' } },
        ],
      });
      expect((await off.pull(c, {})).checksums).toBeUndefined();
      expect(await ctx.store().checksums?.(c.scopeId)).toEqual([]);
      await off.close();
    });
  });
}
