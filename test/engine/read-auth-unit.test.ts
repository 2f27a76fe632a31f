// readableCollections and assertCollections on their own (test/engine/read-auth.test.ts checks the
// hook through every face): which collections a read may touch, and the FORBIDDEN it answers.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SyncError } from '../../shared/errors.js';
import { defineSyncSchema } from '../../shared/schema.js';
import {
  assertCollections,
  readableCollections,
  type AuthorizeCollection,
} from '../../server/engine/read-auth.js';

const schema = defineSyncSchema({
  tasks: z.object({ title: z.string() }),
  notes: z.object({ body: z.string() }),
  jobs: z.object({ site: z.string() }),
});
const actor = { scopeId: 't1', userId: 'u1' };

/** A hook that allows what `allow` says and records each call. */
function hook(allow: (collection: string) => unknown) {
  const calls: string[] = [];
  const fn = (async ({ collection, op }) => {
    calls.push(`${op}:${collection}`);
    return allow(collection);
  }) as AuthorizeCollection;
  return { fn, calls };
}

async function forbidden(p: Promise<unknown>): Promise<SyncError> {
  const e = await p.then(
    () => null,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(SyncError);
  expect((e as SyncError).code).toBe('FORBIDDEN');
  return e as SyncError;
}

describe('readableCollections', () => {
  it('without a hook: the named collections, or every one (undefined) when none or an empty list is named', async () => {
    expect(await readableCollections(undefined, schema, actor, 'pull', ['notes'])).toEqual([
      'notes',
    ]);
    expect(await readableCollections(undefined, schema, actor, 'pull', [])).toBeUndefined();
    expect(await readableCollections(undefined, schema, actor, 'pull', undefined)).toBeUndefined();
  });

  it('named collections, all allowed: returned as named, the hook asked once per name with the op', async () => {
    const h = hook(() => true);
    expect(await readableCollections(h.fn, schema, actor, 'full', ['jobs', 'tasks'])).toEqual([
      'jobs',
      'tasks',
    ]);
    expect(h.calls).toEqual(['full:jobs', 'full:tasks']);
  });

  it('a named, denied collection: FORBIDDEN', async () => {
    const h = hook((c) => c !== 'notes');
    const e = await forbidden(readableCollections(h.fn, schema, actor, 'pull', ['tasks', 'notes']));
    expect(e.issues).toEqual([
      { path: 'collections.1', message: 'pull of collection "notes" is not allowed' },
    ]);
  });

  it('none named: every collection the hook allows (only `true` allows), undefined when all are', async () => {
    const all = hook(() => true);
    expect(await readableCollections(all.fn, schema, actor, 'stream', undefined)).toBeUndefined();
    expect(all.calls).toEqual(['stream:jobs', 'stream:notes', 'stream:tasks']); // schema.names: sorted
    const some = hook((c) => (c === 'notes' ? 1 : c === 'jobs'));
    expect(await readableCollections(some.fn, schema, actor, 'stream', [])).toEqual(['jobs']);
    const none = hook(() => false);
    expect(await readableCollections(none.fn, schema, actor, 'pull', undefined)).toEqual([]);
  });
});

describe('assertCollections', () => {
  it('passes when every name is allowed', async () => {
    const h = hook(() => true);
    await expect(assertCollections(h.fn, actor, 'push', ['tasks', 'notes'])).resolves.toBe(
      undefined,
    );
  });

  it('names every denied collection once, each occurrence as an issue at its index under `path`', async () => {
    const h = hook((c) => c === 'tasks');
    const e = await forbidden(
      assertCollections(h.fn, actor, 'push', ['notes', 'tasks', 'jobs', 'notes'], 'changes'),
    );
    expect(e.message).toBe('push not allowed for collection "notes", "jobs"');
    expect(e.issues).toEqual([
      { path: 'changes.0', message: 'push of collection "notes" is not allowed' },
      { path: 'changes.2', message: 'push of collection "jobs" is not allowed' },
      { path: 'changes.3', message: 'push of collection "notes" is not allowed' },
    ]);
    // One verdict per distinct name.
    expect(h.calls).toEqual(['push:notes', 'push:tasks', 'push:jobs']);
  });

  it('a hook answering something other than true denies', async () => {
    for (const verdict of [1, 'yes', {}, undefined]) {
      const h = hook(() => verdict);
      await forbidden(assertCollections(h.fn, actor, 'full', ['tasks']));
    }
  });
});
