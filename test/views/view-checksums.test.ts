/**
 * View checksums, computed on demand (server/engine/view-checksums.ts), on memory, PGlite and
 * PostgreSQL: a view pull's last page and a view stream's last catch-up event carry the sum of the
 * per-document hashes of exactly the view's documents at the checkpoint; a move into or out of the
 * view changes it; an empty view sums to zero; and no checksum is sent when integrity is off.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSum, checksumHex, docHash, EMPTY_CHECKSUM } from '../../shared/checksum.js';
import type { Store } from '../../server/stores/store.js';
import { Memberships, actor, reader, viewsEngine } from './fixture.js';
import { storeKinds } from './stores.js';

/** The checksum a client computes over documents it holds (id, version, data). */
function sumOf(
  docs: readonly {
    id: string;
    version: string;
    data: Record<string, unknown> | null;
    deleted?: boolean;
  }[],
): string {
  let sum = 0n;
  for (const d of docs)
    if (!d.deleted && d.data) sum = addSum(sum, docHash(d.id, d.version, d.data));
  return checksumHex(sum);
}

for (const kind of storeKinds) {
  (kind.skip ? describe.skip : describe)(
    `view checksums on ${kind.name}${kind.skip ? ` (skipped: ${kind.skip})` : ''}`,
    () => {
      let store: Store;
      let drop: () => Promise<void>;
      const members = new Memberships();
      let engine: ReturnType<typeof viewsEngine>;
      beforeAll(async () => {
        ({ store, drop } = await kind.open());
        engine = viewsEngine(store, members);
      }, 60_000);
      afterAll(async () => {
        await engine?.close();
        await drop?.();
      });
      const scope = () => `s-${randomBytes(4).toString('hex')}`;

      it('a view pull sends the sum over exactly its documents at the checkpoint; a move in or out changes it', async () => {
        const s = scope();
        const ann = actor('ann', s);
        members.grant('ann', 'p1');
        await engine.write(s, [
          {
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'a1', assignee: 'ann', projectId: 'p1' },
          },
          {
            collection: 'tasks',
            id: 't2',
            op: 'upsert',
            data: { title: 'b1', assignee: 'bob', projectId: 'p1' },
          },
          {
            collection: 'tasks',
            id: 't3',
            op: 'upsert',
            data: { title: 'b2', assignee: 'bob', projectId: 'p2' },
          },
        ]);
        const first = await engine.pull(ann, { view: { rule: 'mine' }, verifyView: true });
        expect(first.hasMore).toBe(false);
        const annDocs = first.changes.map((c) => ({ id: c.id, version: c.version, data: c.data }));
        expect(annDocs.map((d) => d.id)).toEqual(['t1']);
        expect(first.checksums).toEqual({ tasks: sumOf(annDocs) });
        // The same view from full: the same documents, the same sum.
        const exported = await engine.full(ann, { view: { rule: 'mine' } });
        expect(sumOf(exported.docs)).toBe(first.checksums!.tasks);
        // A parameterized view with two documents.
        const project = await engine.pull(ann, {
          view: { rule: 'project', params: { projectId: 'p1' } },
          verifyView: true,
        });
        expect(project.changes.map((c) => c.id).sort()).toEqual(['t1', 't2']);
        expect(project.checksums).toEqual({
          tasks: sumOf(
            project.changes.map((c) => ({ id: c.id, version: c.version, data: c.data })),
          ),
        });

        // t2 moves into ann's view, t1 out of it.
        await engine.write(s, [
          { collection: 'tasks', id: 't2', op: 'patch', data: { assignee: 'ann' } },
          { collection: 'tasks', id: 't1', op: 'patch', data: { assignee: 'bob' } },
        ]);
        const next = await engine.pull(ann, {
          view: { rule: 'mine' },
          since: first.checkpoint,
          verifyView: true,
        });
        const left = next.changes.find((c) => c.id === 't1')!;
        expect(left).toMatchObject({ op: 'delete', left: true });
        const t2 = next.changes.find((c) => c.id === 't2')!;
        expect(next.checksums).toEqual({
          tasks: sumOf([{ id: 't2', version: t2.version, data: t2.data }]),
        });
        expect(next.checksums!.tasks).not.toBe(first.checksums!.tasks);

        // A view with nothing in it sums to zero.
        const empty = await engine.pull(actor('cyd', s), {
          view: { rule: 'mine' },
          verifyView: true,
        });
        expect(empty.changes).toEqual([]);
        expect(empty.checksums).toEqual({ tasks: EMPTY_CHECKSUM });
      });

      it('a view pull of several pages carries the sum on its last page only', async () => {
        const s = scope();
        const ann = actor('ann', s);
        await engine.write(
          s,
          Array.from({ length: 5 }, (_, i) => ({
            collection: 'tasks',
            id: `t${i}`,
            op: 'upsert' as const,
            data: { title: `t${i}`, assignee: 'ann' },
          })),
        );
        for (let i = 0; i < 5; i++)
          await engine.write(s, [
            { collection: 'tasks', id: `t${i}`, op: 'patch', data: { title: `again ${i}` } },
          ]);
        const pages = [];
        let since: string | null = null;
        for (;;) {
          const page = await engine.pull(ann, {
            view: { rule: 'mine' },
            since,
            limit: 2,
            verifyView: true,
          });
          pages.push(page);
          since = page.checkpoint;
          if (!page.hasMore) break;
        }
        expect(pages.length).toBeGreaterThan(1);
        expect(pages.slice(0, -1).every((p) => p.checksums === undefined)).toBe(true);
        const exported = await engine.full(ann, { view: { rule: 'mine' } });
        expect(exported.docs).toHaveLength(5);
        expect(pages.at(-1)!.checksums).toEqual({ tasks: sumOf(exported.docs) });
      });

      it('a view stream sends the sum on its last catch-up event', async () => {
        const s = scope();
        const ann = actor('ann', s);
        await engine.write(s, [
          { collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'a1', assignee: 'ann' } },
          { collection: 'tasks', id: 't2', op: 'upsert', data: { title: 'b1', assignee: 'bob' } },
        ]);
        const events = reader(engine.stream(ann, { view: { rule: 'mine' }, verifyView: true }));
        try {
          const event = await events.next();
          expect(event.type).toBe('changes');
          if (event.type !== 'changes') return;
          expect(event.changes.map((c) => c.id)).toEqual(['t1']);
          expect(event.checksums).toEqual({
            tasks: sumOf(
              event.changes.map((c) => ({ id: c.id, version: c.version, data: c.data })),
            ),
          });
        } finally {
          await events.close();
        }
      });

      it('no view checksum unless asked (verifyView): a view read costs no scan of the view by default', async () => {
        const s = scope();
        const ann = actor('ann', s);
        await engine.write(s, [
          { collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'a1', assignee: 'ann' } },
        ]);
        let scans = 0;
        const scanDocs = store.scanDocs.bind(store);
        store.scanDocs = (...args: Parameters<typeof store.scanDocs>) => {
          scans++;
          return scanDocs(...args);
        };
        try {
          const page = await engine.pull(ann, { view: { rule: 'mine' } });
          expect(page.changes.map((c) => c.id)).toEqual(['t1']);
          expect(page.checksums).toBeUndefined();
          const events = reader(engine.stream(ann, { view: { rule: 'mine' } }));
          const event = await events.next();
          await events.close();
          expect(event).toMatchObject({ type: 'changes', changes: [{ id: 't1' }] });
          expect(event.type === 'changes' && event.checksums).toBeUndefined();
          expect(scans).toBe(0);
          // Asked: one scan, and the sum.
          const asked = await engine.pull(ann, { view: { rule: 'mine' }, verifyView: true });
          expect(asked.checksums?.tasks).toMatch(/^[0-9a-f]{16}$/);
          expect(scans).toBeGreaterThan(0);
        } finally {
          store.scanDocs = scanDocs;
        }
      });

      it('a view bigger than maxViewChecksumDocs gets no checksum, and the rate limit charges its scan pages like full pages', async () => {
        const s = scope();
        const ann = actor('ann', s);
        const tasks = (from: number, count: number) =>
          Array.from({ length: count }, (_, i) => ({
            collection: 'tasks' as const,
            id: `t${String(from + i).padStart(5, '0')}`,
            op: 'upsert' as const,
            data: { title: `t${from + i}`, assignee: 'ann' },
          }));
        await engine.write(s, tasks(0, 3));
        const capped = viewsEngine(store, members, { limits: { maxViewChecksumDocs: 3 } });
        try {
          const three = await capped.pull(ann, { view: { rule: 'mine' }, verifyView: true });
          expect(three.checksums?.tasks).toMatch(/^[0-9a-f]{16}$/);
          await engine.write(s, tasks(3, 1));
          const four = await capped.pull(ann, { view: { rule: 'mine' }, verifyView: true });
          expect(four.changes).toHaveLength(4); // the answer itself is whole
          expect(four.checksums).toBeUndefined();
        } finally {
          await capped.close();
        }
        // 2,004 documents: three scan pages; a bucket of 2 tokens pays the pull and the second page only.
        await engine.write(s, tasks(4, 1000));
        await engine.write(s, tasks(1004, 1000));
        let now = 1_000_000;
        const limited = viewsEngine(store, members, {
          rateLimit: { requests: 2, windowMs: 3_600_000 },
          clock: { now: () => now },
        });
        try {
          let since: string | null = null;
          let last;
          do {
            last = await limited.pull(ann, { view: { rule: 'mine' }, since, verifyView: true });
            since = last.checkpoint;
            now += 3_600_000; // a full bucket for each page of the pull itself
          } while (last.hasMore);
          // The last page's pull took one token and the scan's second page the other: no third page, no checksum.
          expect(last.checksums).toBeUndefined();
          // Without the limit the same view sums fine.
          const free = await engine.pull(ann, { view: { rule: 'mine' }, since, verifyView: true });
          expect(free.checksums?.tasks).toMatch(/^[0-9a-f]{16}$/);
        } finally {
          await limited.close();
        }
      });

      it('no view checksum with integrity off', async () => {
        const off = viewsEngine(store, members, { integrity: false });
        try {
          const s = scope();
          await off.write(s, [
            { collection: 'tasks', id: 't1', op: 'upsert', data: { title: 'a1', assignee: 'ann' } },
          ]);
          const page = await off.pull(actor('ann', s), {
            view: { rule: 'mine' },
            verifyView: true,
          });
          expect(page.changes).toHaveLength(1);
          expect(page.checksums).toBeUndefined();
        } finally {
          await off.close();
        }
      });
    },
  );
}
