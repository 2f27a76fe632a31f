/**
 * `applyOne` through `engine.push` on every store: the merged document is validated and
 * size-checked, schema defaults become writes, a no-op write commits nothing, `accepted` versus
 * `conflict_resolved` follows what the change asked for, and resolvers, authorize and delete
 * policies see and produce what they should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor, ChangeInput, PushResult } from '../../shared/protocol.js';
import type { SyncEngineOptions } from '../../server/engine/types.js';
import type { Store } from '../../server/stores/store.js';
import { makeEngine, newActor, type TestSchema } from '../conformance/fixture.js';
import { storeCases } from '../rest/harness.js';

const cases = await storeCases();

/** A past HLC at `ms` after 2025-01-01 (older than the server clock, so it is kept as sent). */
const hlc = (ms: number, node = 'n1') =>
  `20250101T000000.${String(ms).padStart(3, '0')}Z-0000-${node}`;

describe.each(cases)('applying changes on $name', ({ create }) => {
  let store: Store;
  beforeAll(async () => {
    store = await create();
  }, 120_000);
  afterAll(async () => store?.close());

  /** An engine with `options`, an actor of a new scope, and helpers that push one device's changes. */
  function setup(options: Partial<SyncEngineOptions<TestSchema>> = {}) {
    const engine = makeEngine(store, options);
    const actor: Actor = newActor('apply');
    let next = 0;
    const push = async (...changes: Omit<ChangeInput, 'mutationId'>[]): Promise<PushResult[]> =>
      (
        await engine.push(actor, {
          clientId: 'dev',
          changes: changes.map((c) => ({ ...c, mutationId: ++next }) as ChangeInput),
        })
      ).results;
    const one = async (change: Omit<ChangeInput, 'mutationId'>) => (await push(change))[0]!;
    const doc = async (id: string) =>
      (await engine.full(actor, {})).docs.find((d) => d.id === id)?.data;
    const seq = async () => (await store.head(actor.scopeId)).seq;
    return { engine, actor, push, one, doc, seq };
  }

  it('validates the merged document of a patch: a patch that leaves a required field out is rejected', async () => {
    const { engine, one, doc, seq } = setup();
    const created = await one({ collection: 'tasks', id: 'p', op: 'patch', data: { priority: 1 } });
    expect(created).toMatchObject({ status: 'rejected', error: { code: 'INVALID_DOCUMENT' } });
    expect(created.error!.message).toMatch(/^the merged document is invalid: title: /);
    expect(await seq()).toBe(0);
    expect(await doc('p')).toBeUndefined();
    await engine.close();
  });

  it('fills schema defaults into a document a patch creates, as writes of that change', async () => {
    const { engine, one, doc } = setup();
    const res = await one({
      collection: 'tasks',
      id: 'p',
      op: 'patch',
      data: { title: 'made by a patch' },
    });
    expect(res.status).toBe('accepted');
    expect(await doc('p')).toEqual({ title: 'made by a patch', done: false });
    // The default is the change's write: a later patch of another field keeps it.
    await one({ collection: 'tasks', id: 'p', op: 'patch', data: { priority: 2 } });
    expect(await doc('p')).toEqual({ title: 'made by a patch', done: false, priority: 2 });
    await engine.close();
  });

  it('refuses a merged document above maxDocumentBytes; an upsert replaces, a patch merges', async () => {
    const { engine, one, doc } = setup({ limits: { maxDocumentBytes: 80 } });
    await one({
      collection: 'tasks',
      id: 't',
      op: 'upsert',
      data: { title: 'x'.repeat(40), priority: 1 },
    });
    const grown = await one({
      collection: 'tasks',
      id: 't',
      op: 'patch',
      data: { tags: ['y'.repeat(20)] },
    });
    expect(grown).toMatchObject({ status: 'rejected', error: { code: 'INVALID_DOCUMENT' } });
    expect(grown.error!.message).toContain('limits.maxDocumentBytes (80)');
    const replaced = await one({
      collection: 'tasks',
      id: 't',
      op: 'upsert',
      data: { title: 'short' },
    });
    expect(replaced).toMatchObject({ status: 'accepted' });
    expect(replaced).not.toHaveProperty('doc');
    expect(await doc('t')).toEqual({ title: 'short', done: false });
    const patched = await one({ collection: 'tasks', id: 't', op: 'patch', data: { priority: 3 } });
    expect(patched.status).toBe('accepted');
    expect(await doc('t')).toEqual({ title: 'short', priority: 3, done: false });
    // Removing a field with a default: the default is filled in again, so the patch did not get its way.
    const cleared = await one({ collection: 'tasks', id: 't', op: 'patch', data: { done: null } });
    expect(cleared).toMatchObject({
      status: 'conflict_resolved',
      doc: { title: 'short', priority: 3, done: false },
    });
    await engine.close();
  });

  it('commits nothing for a write that loses on every field, and nothing for a rejected one', async () => {
    const { engine, one, doc, seq } = setup({ authorize: ({ change }) => change.id !== 'no' });
    await one({
      collection: 'tasks',
      id: 't',
      op: 'upsert',
      data: { title: 'new', done: true },
      hlc: hlc(500),
    });
    expect(await seq()).toBe(1);
    const older = await one({
      collection: 'tasks',
      id: 't',
      op: 'upsert',
      data: { title: 'old', done: false },
      hlc: hlc(100, 'n2'),
    });
    expect(older).toMatchObject({ status: 'conflict_resolved', doc: { title: 'new', done: true } });
    expect(await seq()).toBe(1);
    expect(await doc('t')).toEqual({ title: 'new', done: true });
    const refused = await one({
      collection: 'tasks',
      id: 'no',
      op: 'upsert',
      data: { title: 'x' },
    });
    expect(refused).toMatchObject({
      status: 'rejected',
      error: { code: 'FORBIDDEN', message: 'not allowed to change this document' },
    });
    expect(await seq()).toBe(1);
    // A write that changes something does commit.
    expect(
      (await one({ collection: 'tasks', id: 't', op: 'patch', data: { title: 'newer' } })).status,
    ).toBe('accepted');
    expect(await seq()).toBe(2);
    await engine.close();
  });

  it('answers conflict_resolved when a newer write of another field survives an upsert, accepted when all it asked for holds', async () => {
    const { engine, one, doc } = setup();
    await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'x' }, hlc: hlc(0) });
    await one({ collection: 'tasks', id: 't', op: 'patch', data: { priority: 5 }, hlc: hlc(200) });
    // Newer than the title, older than the priority: the title and done are taken, priority stays.
    const up = await one({
      collection: 'tasks',
      id: 't',
      op: 'upsert',
      data: { title: 'b' },
      hlc: hlc(100, 'n2'),
    });
    expect(await doc('t')).toEqual({ title: 'b', done: false, priority: 5 });
    expect(up).toMatchObject({
      status: 'conflict_resolved',
      doc: { title: 'b', done: false, priority: 5 },
    });
    // A patch one of whose fields loses to a newer write is conflict_resolved too.
    const patch = await one({
      collection: 'tasks',
      id: 't',
      op: 'patch',
      data: { title: 'c', priority: 9 },
      hlc: hlc(150, 'n2'),
    });
    expect(patch.status).toBe('conflict_resolved');
    expect(await doc('t')).toEqual({ title: 'c', done: false, priority: 5 });
    // A patch that removes a field (null) gets what it asked for.
    const removal = await one({
      collection: 'tasks',
      id: 't',
      op: 'patch',
      data: { priority: null },
    });
    expect(removal.status).toBe('accepted');
    expect(removal).not.toHaveProperty('doc');
    expect(await doc('t')).toEqual({ title: 'c', done: false });
    await engine.close();
  });

  it('delete_wins: a delete of a deleted document is accepted; an update of it is conflict_resolved with doc null', async () => {
    const { engine, one } = setup({ deletePolicy: 'delete_wins' });
    await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'a' } });
    expect((await one({ collection: 'tasks', id: 't', op: 'delete' })).status).toBe('accepted');
    expect((await one({ collection: 'tasks', id: 't', op: 'delete' })).status).toBe('accepted');
    expect(
      await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'b' } }),
    ).toMatchObject({ status: 'conflict_resolved', doc: null });
    await engine.close();
  });

  it('authorize and resolvers see a deleted document as none; a string verdict is the message', async () => {
    const seen: unknown[] = [];
    const { engine, one } = setup({
      authorize: ({ change, current }) => {
        seen.push(current);
        return change.id === 'deny' ? 'only admins' : true;
      },
    });
    await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'a' } });
    await one({ collection: 'tasks', id: 't', op: 'delete' });
    await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'back' } });
    expect(seen).toEqual([null, { title: 'a', done: false }, null]);
    expect(
      await one({ collection: 'tasks', id: 'deny', op: 'upsert', data: { title: 'x' } }),
    ).toMatchObject({ status: 'rejected', error: { code: 'FORBIDDEN', message: 'only admins' } });
    await engine.close();
  });

  describe('resolvers', () => {
    it('get a patch as the current document merged with it, and the current one as null after a delete', async () => {
      const calls: { current: unknown; incoming: unknown }[] = [];
      const { engine, one, doc } = setup({
        resolvers: {
          tasks: ({ current, incoming }) => {
            calls.push({ current, incoming });
            return incoming;
          },
        },
      });
      await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'a', priority: 1 } });
      const patched = await one({
        collection: 'tasks',
        id: 't',
        op: 'patch',
        data: { priority: null, done: true },
      });
      expect(patched.status).toBe('accepted');
      expect(calls[1]).toEqual({
        current: { title: 'a', done: false, priority: 1 },
        incoming: { title: 'a', done: true },
      });
      expect(await doc('t')).toEqual({ title: 'a', done: true });
      await one({ collection: 'tasks', id: 't', op: 'delete' });
      await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'again' } });
      expect(calls[2]).toEqual({ current: null, incoming: { title: 'again', done: false } });
      expect(await doc('t')).toEqual({ title: 'again', done: false });
      await engine.close();
    });

    it('an answer equal to the stored document commits nothing; one that drops a field gets a new version', async () => {
      let answer: (
        current: Record<string, unknown> | null,
        incoming: Record<string, unknown>,
      ) => Record<string, unknown> = (_c, i) => i;
      const { engine, one, doc, seq } = setup({
        resolvers: { tasks: ({ current, incoming }) => answer(current, incoming) },
      });
      const first = await one({
        collection: 'tasks',
        id: 't',
        op: 'upsert',
        data: { title: 'a', priority: 1 },
      });
      expect(await seq()).toBe(1);
      answer = (current) => ({ ...current! });
      const same = await one({
        collection: 'tasks',
        id: 't',
        op: 'upsert',
        data: { title: 'ignored' },
      });
      expect(same).toMatchObject({
        status: 'conflict_resolved',
        doc: { title: 'a', done: false, priority: 1 },
      });
      expect(await seq()).toBe(1);
      answer = (current) => ({ title: current!.title as string, done: false });
      const dropped = await one({
        collection: 'tasks',
        id: 't',
        op: 'upsert',
        data: { title: 'a', done: false },
      });
      expect(dropped.status).toBe('accepted');
      expect(await seq()).toBe(2);
      expect(await doc('t')).toEqual({ title: 'a', done: false });
      expect(dropped.version! > first.version!).toBe(true);
      await engine.close();
    });

    it("a changed field gets the change's HLC: the version moves, and a resurrection outranks an older delete", async () => {
      const { engine, one, doc } = setup({ resolvers: { tasks: ({ incoming }) => incoming } });
      const first = await one({
        collection: 'tasks',
        id: 't',
        op: 'upsert',
        data: { title: 'a' },
        hlc: hlc(100),
      });
      const second = await one({
        collection: 'tasks',
        id: 't',
        op: 'upsert',
        data: { title: 'b' },
        hlc: hlc(150),
      });
      expect(second.version).toBe(hlc(150));
      expect(second.version! > first.version!).toBe(true);
      await one({ collection: 'tasks', id: 't', op: 'delete', hlc: hlc(200) });
      // Brought back at 400; a delete stamped 300 (older than the resurrection) loses to it.
      expect(
        (
          await one({
            collection: 'tasks',
            id: 't',
            op: 'upsert',
            data: { title: 'back' },
            hlc: hlc(400),
          })
        ).status,
      ).toBe('accepted');
      await one({ collection: 'tasks', id: 't', op: 'delete', hlc: hlc(300, 'n2') });
      expect(await doc('t')).toEqual({ title: 'back', done: false });
      await engine.close();
    });

    it('an answer that changes a field the patch did not name is conflict_resolved', async () => {
      // The resolver counts every write in `priority`.
      const { engine, one } = setup({
        resolvers: {
          tasks: ({ incoming }) => ({
            ...incoming,
            priority: ((incoming.priority as number | undefined) ?? 0) + 1,
          }),
        },
      });
      await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'a' } });
      const res = await one({ collection: 'tasks', id: 't', op: 'patch', data: { title: 'b' } });
      expect(res).toMatchObject({
        status: 'conflict_resolved',
        doc: { title: 'b', done: false, priority: 2 },
      });
      await engine.close();
    });

    it('an invalid or oversized answer is rejected, naming the field (or the root)', async () => {
      let answer: unknown = { title: 5 };
      const { engine, one, seq } = setup({
        limits: { maxDocumentBytes: 60 },
        resolvers: { tasks: () => answer as Record<string, unknown> },
      });
      const bad = await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'a' } });
      expect(bad).toMatchObject({ status: 'rejected', error: { code: 'INVALID_DOCUMENT' } });
      expect(bad.error!.message).toMatch(/^resolver returned an invalid document: title: /);
      answer = 'not an object';
      const root = await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'a' } });
      expect(root.error!.message).toMatch(/^resolver returned an invalid document: \(root\): /);
      answer = { title: 'z'.repeat(100) };
      const big = await one({ collection: 'tasks', id: 't', op: 'upsert', data: { title: 'a' } });
      expect(big).toMatchObject({ status: 'rejected', error: { code: 'INVALID_DOCUMENT' } });
      expect(big.error!.message).toContain('limits.maxDocumentBytes (60)');
      expect(await seq()).toBe(0);
      await engine.close();
    });
  });
});
