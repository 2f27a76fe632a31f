/** Conformance: bad input gets a clear error naming the field, and nothing is written. */
import { describe, expect, it } from 'vitest';
import type { SyncErrorCode } from '../../shared/errors.js';
import { expectSyncError, makeEngine, newActor, type useStore } from './fixture.js';

type Ctx = ReturnType<typeof useStore>;

// `data` is a getter, so every `{ ...ok }` gets its own object: the engine refuses one object shared by two changes.
const ok = {
  mutationId: 1,
  collection: 'tasks',
  id: 't1',
  op: 'upsert',
  get data() {
    return { title: 'fine' };
  },
};
const push = (changes: unknown[], extra: object = {}) => ({ clientId: 'd1', changes, ...extra });

/** [name, operation, input, expected code, path named in issues] */
const CASES: [string, 'push' | 'pull' | 'full' | 'stream', unknown, SyncErrorCode, string][] = [
  ['missing clientId', 'push', { changes: [ok] }, 'BAD_REQUEST', 'clientId'],
  ['empty clientId', 'push', push([ok], { clientId: '' }), 'BAD_REQUEST', 'clientId'],
  ['changes not an array', 'push', { clientId: 'd1', changes: 'nope' }, 'BAD_REQUEST', 'changes'],
  [
    'unknown collection',
    'push',
    push([ok, { ...ok, mutationId: 2, collection: 'users' }]),
    'BAD_REQUEST',
    'changes.1.collection',
  ],
  [
    'invalid collection name',
    'push',
    push([{ ...ok, collection: 'drop table;' }]),
    'BAD_REQUEST',
    'changes.0.collection',
  ],
  ['unknown op', 'push', push([{ ...ok, op: 'merge' }]), 'BAD_REQUEST', 'changes.0.op'],
  [
    'zero mutationId',
    'push',
    push([{ ...ok, mutationId: 0 }]),
    'BAD_REQUEST',
    'changes.0.mutationId',
  ],
  [
    'fractional mutationId',
    'push',
    push([{ ...ok, mutationId: 1.5 }]),
    'BAD_REQUEST',
    'changes.0.mutationId',
  ],
  [
    'mutation ids not increasing',
    'push',
    push([ok, { ...ok, id: 't2' }]),
    'BAD_REQUEST',
    'changes.1.mutationId',
  ],
  ['empty id', 'push', push([{ ...ok, id: '' }]), 'BAD_REQUEST', 'changes.0.id'],
  [
    'wrong field type',
    'push',
    push([{ ...ok, data: { title: 42 } }]),
    'BAD_REQUEST',
    'changes.0.data.title',
  ],
  [
    'missing required field',
    'push',
    push([{ ...ok, data: { done: true } }]),
    'BAD_REQUEST',
    'changes.0.data.title',
  ],
  ['upsert without data', 'push', push([{ ...ok, data: null }]), 'BAD_REQUEST', 'changes.0.data'],
  [
    'reserved field name',
    'push',
    push([{ ...ok, data: { title: 'x', _sync_version: 'forged' } }]),
    'BAD_REQUEST',
    'changes.0.data._sync_version',
  ],
  [
    'patch removing a required field',
    'push',
    push([{ ...ok, op: 'patch', data: { title: null } }]),
    'BAD_REQUEST',
    'changes.0.data.title',
  ],
  ['malformed hlc', 'push', push([{ ...ok, hlc: 'yesterday' }]), 'BAD_REQUEST', 'changes.0.hlc'],
  [
    'malformed baseVersion',
    'push',
    push([{ ...ok, baseVersion: 42 }]),
    'BAD_REQUEST',
    'changes.0.baseVersion',
  ],
  [
    'too many changes',
    'push',
    push(Array.from({ length: 1001 }, (_, i) => ({ ...ok, mutationId: i + 1, id: `t${i}` }))),
    'PAYLOAD_TOO_LARGE',
    'changes',
  ],
  [
    'document too large',
    'push',
    push([{ ...ok, data: { title: 'x'.repeat(1_000_001) } }]),
    'PAYLOAD_TOO_LARGE',
    'changes.0.data',
  ],
  ['pull: malformed checkpoint', 'pull', { since: 'not-a-checkpoint' }, 'BAD_REQUEST', 'since'],
  ['pull: limit above maximum', 'pull', { limit: 1001 }, 'BAD_REQUEST', 'limit'],
  ['pull: negative limit', 'pull', { limit: -5 }, 'BAD_REQUEST', 'limit'],
  [
    'pull: unknown collection filter syntax',
    'pull',
    { collections: ['a b'] },
    'BAD_REQUEST',
    'collections.0',
  ],
  [
    'pull: unknown collection in filter',
    'pull',
    { collections: ['tasks', 'users'] },
    'BAD_REQUEST',
    'collections.1',
  ],
  [
    'stream: unknown collection in filter',
    'stream',
    { collections: ['users'] },
    'BAD_REQUEST',
    'collections.0',
  ],
  ['full: malformed cursor', 'full', { cursor: '!!!' }, 'BAD_REQUEST', 'cursor'],
  ['full: limit above maximum', 'full', { limit: 10_001 }, 'BAD_REQUEST', 'limit'],
  ['stream: malformed checkpoint', 'stream', { since: 'garbage' }, 'BAD_REQUEST', 'since'],
];

export function badInputSuite(ctx: Ctx): void {
  describe('bad input', () => {
    it.each(CASES)('%s → %s', async (_name, op, input, code, path) => {
      const actor = newActor('bad');
      const engine = ctx.engine();
      const call =
        op === 'stream'
          ? (async () => {
              for await (const _ of engine.stream(actor, input)) break;
            })()
          : engine[op](actor, input);
      const error = await expectSyncError(call, code);
      expect(error.issues.map((i) => i.path)).toContain(path);
      expect(error.message).toContain(path.split('.').at(-1)!);
      // Nothing was written.
      expect(await ctx.store().head(actor.scopeId)).toEqual({ seq: 0, horizon: 0 });
      expect((await engine.full(actor, {})).docs).toEqual([]);
    });

    it('limits are configurable', async () => {
      const actor = newActor();
      const engine = makeEngine(ctx.store(), {
        limits: { maxChangesPerPush: 2, pullMaxLimit: 5, pullDefaultLimit: 5 },
      });
      await expectSyncError(
        engine.push(actor, push([ok, { ...ok, mutationId: 2 }, { ...ok, mutationId: 3 }])),
        'PAYLOAD_TOO_LARGE',
      );
      await expectSyncError(engine.pull(actor, { limit: 6 }), 'BAD_REQUEST');
      expect(() => makeEngine(ctx.store(), { limits: { pullMaxLimit: -1 } })).toThrow(
        /limits\.pullMaxLimit/,
      );
      await engine.close();
    });
  });
}
