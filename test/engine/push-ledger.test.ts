/**
 * The mutation ledger's answers on every store, beyond the conformance suite: what a `duplicate`
 * carries, CLIENT_ID_CONFLICT's `recorded` ids and message, outcomes recorded without a digest,
 * and server numbering after a client left gaps in its ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../shared/errors.js';
import type { ChangeInput } from '../../shared/protocol.js';
import type { Store } from '../../server/stores/store.js';
import { makeEngine, newActor } from '../conformance/fixture.js';
import { storeCases } from '../rest/harness.js';

const cases = await storeCases();
const hlc = (ms: number, node = 'n1') =>
  `20250101T000000.${String(ms).padStart(3, '0')}Z-0000-${node}`;
const task = (mutationId: number, id: string, title: string, extra: Partial<ChangeInput> = {}) =>
  ({ mutationId, collection: 'tasks', id, op: 'upsert', data: { title }, ...extra }) as ChangeInput;

async function refusal(p: Promise<unknown>): Promise<SyncError> {
  const e = await p.then(
    () => null,
    (error: unknown) => error,
  );
  if (!SyncError.is(e)) throw new Error(`expected a SyncError, got ${String(e)}`);
  return e;
}

describe.each(cases)('the mutation ledger on $name', ({ create }) => {
  let store: Store;
  beforeAll(async () => {
    store = await create();
  }, 120_000);
  afterAll(async () => store?.close());

  it('a duplicate of a conflict_resolved change carries the original status, version and document', async () => {
    const engine = makeEngine(store);
    const actor = newActor('ledger');
    await engine.push(actor, {
      clientId: 'a',
      changes: [task(1, 't', 'newer', { hlc: hlc(500) })],
    });
    const older = task(1, 't', 'older', { hlc: hlc(100, 'n2') });
    const first = await engine.push(actor, { clientId: 'b', changes: [older] });
    expect(first.results[0]).toMatchObject({
      status: 'conflict_resolved',
      doc: { title: 'newer', done: false },
    });
    const retry = await engine.push(actor, { clientId: 'b', changes: [older] });
    expect(retry.results[0]).toEqual({
      mutationId: 1,
      collection: 'tasks',
      id: 't',
      status: 'duplicate',
      original: 'conflict_resolved',
      version: first.results[0]!.version,
      doc: { title: 'newer', done: false },
    });
    // An accepted change's duplicate has no document (nothing was changed from what was sent).
    await engine.push(actor, { clientId: 'b', changes: [task(2, 'u', 'x')] });
    const again = await engine.push(actor, { clientId: 'b', changes: [task(2, 'u', 'x')] });
    expect(again.results[0]).toMatchObject({ status: 'duplicate', original: 'accepted' });
    expect(again.results[0]).not.toHaveProperty('doc');
    expect(again.results[0]).not.toHaveProperty('error');
    await engine.close();
  });

  it("another user's client id: CLIENT_ID_CONFLICT with no recorded ids, nothing applied", async () => {
    const engine = makeEngine(store);
    const actor = newActor('ledger');
    await engine.push(actor, { clientId: 'shared', changes: [task(1, 't', 'mine')] });
    const other = { ...actor, userId: `${actor.userId}-other` };
    const e = await refusal(
      engine.push(other, { clientId: 'shared', changes: [task(2, 'u', 'theirs')] }),
    );
    expect(e.code).toBe('CLIENT_ID_CONFLICT');
    expect(e.recorded).toEqual([]);
    expect(e.issues).toEqual([{ path: 'clientId', message: 'in use by another user' }]);
    expect((await store.head(actor.scopeId)).seq).toBe(1);
    await engine.close();
  });

  it('CLIENT_ID_CONFLICT names how many ids hold other changes, and the ids that hold these very ones', async () => {
    const engine = makeEngine(store);
    const actor = newActor('ledger');
    await engine.push(actor, {
      clientId: 'c',
      changes: [task(1, 'a', 'one'), task(2, 'b', 'two'), task(3, 'c', 'three')],
    });
    const one = await refusal(
      engine.push(actor, { clientId: 'c', changes: [task(1, 'a', 'one'), task(2, 'b', 'other')] }),
    );
    expect(one.message).toContain(
      'under a mutation id of this push (changes.1.mutationId: a different change is recorded under this id)',
    );
    expect(one.recorded).toEqual([1]);
    const two = await refusal(
      engine.push(actor, {
        clientId: 'c',
        changes: [task(1, 'a', 'x'), task(2, 'b', 'y'), task(3, 'c', 'three')],
      }),
    );
    expect(two.message).toContain('under 2 mutation ids of this push');
    expect(two.issues.map((i) => i.path)).toEqual(['changes.0.mutationId', 'changes.1.mutationId']);
    expect(two.recorded).toEqual([3]);
    expect((await store.head(actor.scopeId)).seq).toBe(1);
    await engine.close();
  });

  it('an outcome recorded without a digest (before digests were kept) answers a retry as duplicate', async () => {
    const engine = makeEngine(store);
    const actor = newActor('ledger');
    await store.transaction(actor.scopeId, (tx) =>
      tx.recordResults(
        'old',
        1,
        [{ mutationId: 1, result: { status: 'accepted', version: hlc(1) } }],
        new Date(),
        actor.userId,
      ),
    );
    const res = await engine.push(actor, {
      clientId: 'old',
      changes: [task(1, 't', 'whatever'), task(2, 'u', 'new')],
    });
    expect(res.results.map((r) => [r.status, r.original])).toEqual([
      ['duplicate', 'accepted'],
      ['accepted', undefined],
    ]);
    expect(res.results[0]!.version).toBe(hlc(1));
    await engine.close();
  });

  it('server numbering after client-numbered ids with gaps: new ids follow the last one', async () => {
    const engine = makeEngine(store);
    const actor = newActor('ledger');
    await engine.push(actor, { clientId: 'g', changes: [task(1, 'a', '1'), task(5, 'b', '5')] });
    const batch = [task(1, 'c', 'x'), task(2, 'd', 'y'), task(3, 'e', 'z')];
    const res = await engine.push(
      actor,
      { clientId: 'g', atomic: true, changes: batch },
      { numbering: 'server' },
    );
    expect(res.results.map((r) => [r.mutationId, r.status])).toEqual([
      [6, 'accepted'],
      [7, 'accepted'],
      [8, 'accepted'],
    ]);
    // Client numbering is left as sent.
    const client = await engine.push(actor, { clientId: 'g', changes: [task(12, 'f', 'w')] });
    expect(client.results[0]).toMatchObject({ mutationId: 12, status: 'accepted' });
    await engine.close();
  });

  it('history names the client and mutation id of a push, and neither for a server write', async () => {
    const engine = makeEngine(store);
    const actor = newActor('ledger');
    await engine.push(actor, { clientId: 'dev', changes: [task(4, 't', 'from a device')] });
    await engine.write(actor.scopeId, [
      { collection: 'tasks', id: 's', op: 'upsert', data: { title: 'from the server' } },
    ]);
    const entries = await store.readOplog(actor.scopeId, { afterSeq: 0 });
    expect(entries.map((e) => [e.id, e.clientId, e.mutationId])).toEqual([
      ['t', 'dev', 4],
      ['s', null, null],
    ]);
    await engine.close();
  });
});
