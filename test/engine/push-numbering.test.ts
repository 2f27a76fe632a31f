/**
 * Server numbering (`engine.push(…, { numbering: 'server' })`, the fastapi-offline-sync face's
 * pushes) on every store: new changes get the ids after the client's last recorded one; exactly
 * the client's last push again (same changes, same order) gets that push's ids and is answered as
 * its retry; anything else is new. And a retry's `duplicate` carries the original outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeInput, PushResponse } from '../../shared/protocol.js';
import type { Store } from '../../server/stores/store.js';
import { makeEngine, newActor } from '../conformance/fixture.js';
import { storeCases } from '../rest/harness.js';

const cases = await storeCases();

/** A task upsert; its mutation id is a placeholder (1, 2, … as the face sends it): the server numbers it. */
const task = (id: string, title: string) => ({
  collection: 'tasks',
  id,
  op: 'upsert',
  data: { title },
});
const numbered = (...changes: ReturnType<typeof task>[]): ChangeInput[] =>
  changes.map((c, i) => ({ ...c, mutationId: i + 1 }) as ChangeInput);
const ids = (res: PushResponse) => res.results.map((r) => r.mutationId);
const statuses = (res: PushResponse) => res.results.map((r) => r.status);

describe.each(cases)('server numbering on $name', ({ create }) => {
  let store: Store;
  beforeAll(async () => {
    store = await create();
  }, 120_000);
  afterAll(async () => store?.close());

  const server = { numbering: 'server' as const };
  const lastId = async (scope: string, clientId: string) =>
    store.transaction(scope, async (tx) => (await tx.clientLedger(clientId)).lastMutationId);

  it('numbers a first push 1..n and the next one after it', async () => {
    const engine = makeEngine(store);
    const actor = newActor('num');
    const first = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('a', '1'), task('b', '1')) },
      server,
    );
    expect(ids(first)).toEqual([1, 2]);
    expect(statuses(first)).toEqual(['accepted', 'accepted']);
    // Fewer changes than the ledger's last id is long, and more: both continue after it.
    const one = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('c', '1')) },
      server,
    );
    expect(ids(one)).toEqual([3]);
    const three = await engine.push(
      actor,
      {
        clientId: 'c',
        atomic: true,
        changes: numbered(task('d', '1'), task('e', '1'), task('f', '1'), task('g', '1')),
      },
      server,
    );
    expect(ids(three)).toEqual([4, 5, 6, 7]);
    expect(statuses(three)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(await lastId(actor.scopeId, 'c')).toBe(7);
    await engine.close();
  });

  it('answers exactly the last push again as its retry, with the same ids and outcomes', async () => {
    const engine = makeEngine(store);
    const actor = newActor('num');
    await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('x', '0')) },
      server,
    );
    const batch = [task('a', '1'), task('b', '1')];
    const sent = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(...batch) },
      server,
    );
    expect(ids(sent)).toEqual([2, 3]);
    const again = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(...batch) },
      server,
    );
    expect(ids(again)).toEqual([2, 3]);
    expect(statuses(again)).toEqual(['duplicate', 'duplicate']);
    expect(again.results.map((r) => r.original)).toEqual(['accepted', 'accepted']);
    expect(again.results.map((r) => r.version)).toEqual(sent.results.map((r) => r.version));
    expect(await lastId(actor.scopeId, 'c')).toBe(3);
    // The last push's tail alone (its last change) is its retry too.
    const tail = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('b', '1')) },
      server,
    );
    expect(ids(tail)).toEqual([3]);
    expect(statuses(tail)).toEqual(['duplicate']);
    // A push as long as the whole ledger, equal to it, is the retry of ids 1..n.
    const whole = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('x', '0'), ...batch) },
      server,
    );
    expect(ids(whole)).toEqual([1, 2, 3]);
    expect(statuses(whole)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect((await engine.pull(actor, {})).changes.map((c) => c.id).sort()).toEqual(['a', 'b', 'x']);
    await engine.close();
  });

  it('numbers as new a push that only partly or out of order matches the last one', async () => {
    const engine = makeEngine(store);
    const actor = newActor('num');
    await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('a', '1'), task('b', '1')) },
      server,
    );
    // Same first change, another second one: new, after the ledger (not a conflict on id 2).
    const partly = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('a', '1'), task('b', '2')) },
      server,
    );
    expect(ids(partly)).toEqual([3, 4]);
    expect(partly.results[1]!.status).toBe('accepted');
    // The last push's changes in the other order: new too.
    const swapped = await engine.push(
      actor,
      { clientId: 'c', atomic: true, changes: numbered(task('b', '2'), task('a', '1')) },
      server,
    );
    expect(ids(swapped)).toEqual([5, 6]);
    // One change longer than the ledger's tail it would have to match: new.
    const longer = await engine.push(
      actor,
      {
        clientId: 'c',
        atomic: true,
        changes: numbered(task('q', '1'), task('b', '2'), task('a', '1')),
      },
      server,
    );
    expect(ids(longer)).toEqual([7, 8, 9]);
    expect(await lastId(actor.scopeId, 'c')).toBe(9);
    await engine.close();
  });

  it('numbers each client id on its own and refuses server numbering without an atomic push', async () => {
    const engine = makeEngine(store);
    const actor = newActor('num');
    await engine.push(
      actor,
      { clientId: 'c1', atomic: true, changes: numbered(task('a', '1'), task('b', '1')) },
      server,
    );
    const other = await engine.push(
      actor,
      { clientId: 'c2', atomic: true, changes: numbered(task('a', '1')) },
      server,
    );
    expect(ids(other)).toEqual([1]);
    expect(statuses(other)).toEqual(['accepted']);
    await expect(
      engine.push(
        actor,
        { clientId: 'c1', atomic: false, changes: numbered(task('z', '1')) },
        server,
      ),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await engine.close();
  });

  it('a duplicate of a rejected change carries the original status and error', async () => {
    const engine = makeEngine(store, {
      authorize: ({ change }) =>
        (change.data as { title?: string } | null)?.title === 'bad' ? 'no bad titles' : true,
    });
    const actor = newActor('num');
    const change = {
      mutationId: 1,
      collection: 'tasks',
      id: 'r',
      op: 'upsert',
      data: { title: 'bad' },
    } as ChangeInput;
    const first = await engine.push(actor, { clientId: 'c', changes: [change] });
    expect(first.results[0]).toMatchObject({ status: 'rejected' });
    const retry = await engine.push(actor, { clientId: 'c', changes: [change] });
    expect(retry.results[0]).toMatchObject({
      status: 'duplicate',
      original: 'rejected',
      error: first.results[0]!.error,
    });
    await engine.close();
  });
});
