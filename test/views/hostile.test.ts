/**
 * Hostile view requests, fuzzed (fast-check, seeded; the seed is printed on failure): random rule
 * names (declared, undeclared, prototype keys, odd strings), random params and random shapes of
 * `view` sent to pull, full and stream. Each answer is either a 4xx refusal naming `view…` (or
 * `collections`), or holds only documents the view's rule admits — never a document outside it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SyncError } from '../../shared/errors.js';
import type { Store } from '../../server/stores/store.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { Memberships, reader, viewsRules, viewsSchema } from './fixture.js';
import { storeKinds } from './stores.js';

const ruleName = fc.oneof(
  fc.constantFrom(
    'mine',
    'project',
    'team',
    'catalogue',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '',
    'MINE',
    'mine ',
  ),
  fc.string({ maxLength: 10 }),
);
const jsonish = fc.jsonValue({ maxDepth: 3 });
const params = fc.oneof(
  fc.constant(undefined),
  fc.record(
    { projectId: fc.oneof(fc.constantFrom('p1', 'p2', 'secret'), jsonish) },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string({ maxLength: 6 }), jsonish, { maxKeys: 3 }),
  jsonish,
);
const view = fc.oneof(fc.record({ rule: ruleName, params }, { requiredKeys: ['rule'] }), jsonish);
const request = fc.record({
  op: fc.constantFrom('pull' as const, 'full' as const, 'stream' as const),
  view,
  collections: fc.option(fc.subarray(['tasks', 'parts', 'notes']), { nil: undefined }),
  user: fc.constantFrom('ann', 'bob'),
});

/** What a view admits, by the test's own reading of the rules. */
function admits(
  rule: string,
  projectId: unknown,
  user: string,
  collection: string,
  data: Record<string, unknown>,
): boolean {
  if (rule === 'mine') return collection === 'tasks' && data.assignee === user;
  if (rule === 'project') return collection === 'tasks' && data.projectId === projectId;
  if (rule === 'team') return collection === 'tasks' && data.projectId === 'p1' && user === 'ann';
  if (rule === 'catalogue') return collection === 'parts';
  return false;
}

const RUNS: Record<string, number> = { memory: 400, pglite: 120, postgres: 120 };

for (const kind of storeKinds) {
  (kind.skip ? describe.skip : describe)(
    `hostile views on ${kind.name}${kind.skip ? ` (skipped: ${kind.skip})` : ''}`,
    () => {
      let store: Store;
      let drop: () => Promise<void>;
      let engine: ReturnType<
        typeof createSyncEngine<typeof viewsSchema, Omit<ReturnType<typeof viewsRules>, 'broken'>>
      >;
      const scope = `hostile-${kind.name}`;
      beforeAll(async () => {
        ({ store, drop } = await kind.open());
        const members = new Memberships();
        members.grant('ann', 'p1');
        // The fixture's rules without `broken` (a server bug, answered INTERNAL, tested in views.test.ts).
        const { broken: _broken, ...rules } = viewsRules(members);
        engine = createSyncEngine({
          store,
          schema: viewsSchema,
          rules,
          defaultViews: ['mine'],
          retention: { pruneIntervalMs: 0 },
        });
        await engine.write(scope, [
          {
            collection: 'tasks',
            id: 't1',
            op: 'upsert',
            data: { title: 'a', assignee: 'ann', projectId: 'p1' },
          },
          {
            collection: 'tasks',
            id: 't2',
            op: 'upsert',
            data: { title: 'b', assignee: 'bob', projectId: 'p2' },
          },
          {
            collection: 'tasks',
            id: 't3',
            op: 'upsert',
            data: { title: 'c', assignee: null, projectId: 'secret' },
          },
          { collection: 'parts', id: 'p', op: 'upsert', data: { name: 'bolt' } },
          { collection: 'notes', id: 'n', op: 'upsert', data: { body: 'x' } },
        ]);
        await engine.write(scope, [
          {
            collection: 'tasks',
            id: 't1',
            op: 'patch',
            data: { assignee: 'bob', projectId: 'secret' },
          },
        ]);
      }, 60_000);
      afterAll(async () => {
        await engine?.close();
        await drop?.();
      });

      it('every answer is a named 4xx refusal or only documents the view admits', async () => {
        const seed = Number(process.env.VIEWS_HOSTILE_SEED ?? Date.now() % 2_147_483_647);
        try {
          await fc.assert(
            fc.asyncProperty(request, async (r) => {
              const who = { userId: r.user, scopeId: scope };
              const input = { view: r.view, collections: r.collections };
              let docs: { collection: string; data: Record<string, unknown> | null; op?: string }[];
              try {
                if (r.op === 'pull') docs = (await engine.pull(who, input)).changes;
                else if (r.op === 'full') docs = (await engine.full(who, input)).docs;
                else {
                  const events = reader(engine.stream(who, input));
                  const first = await events.next();
                  await events.close();
                  docs = first.type === 'changes' ? first.changes : [];
                }
              } catch (error) {
                if (!SyncError.is(error)) throw error;
                expect(['BAD_REQUEST', 'FORBIDDEN'], error.message).toContain(error.code);
                expect(error.issues[0]?.path ?? '', error.message).toMatch(/^(view|collections)/);
                return;
              }
              const v = r.view as { rule: string; params?: { projectId?: unknown } };
              for (const d of docs) {
                if (d.data === null) continue;
                expect(
                  admits(v.rule, v.params?.projectId, r.user, d.collection, d.data),
                  JSON.stringify({ r, d }),
                ).toBe(true);
              }
            }),
            { seed, numRuns: RUNS[kind.name] },
          );
        } catch (error) {
          console.error(
            `hostile views on ${kind.name} failed with seed ${seed} (rerun with VIEWS_HOSTILE_SEED=${seed})`,
          );
          throw error;
        }
      }, 300_000);
    },
  );
}
