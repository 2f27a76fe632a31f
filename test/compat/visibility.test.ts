/**
 * Per-user visibility on the fastapi-offline-sync face (`visibility: 'user'`), over real HTTP and
 * its WebSocket, on memory, PGlite and PostgreSQL: each user sees only the documents they last
 * wrote (through the engine's writer rules), in pull, full and stream; a document another user
 * overwrites leaves the first user's view as a `delete`, old versions included.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { CliError, readConfig } from '../../server/cli/config.js';
import { createFastapiCompatHandler } from '../../server/compat/fastapi-offline-sync/index.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import { writerRules } from '../../server/engine/rules.js';
import type { SyncEngine } from '../../server/engine/types.js';
import { createSyncHttpServer, type SyncHttpServer } from '../../server/http/server.js';
import type { Store } from '../../server/stores/store.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { eventually } from '../trpc/harness.js';
import { call, compatStores, openStream, readFull } from './harness.js';

const SECRET = 'compat-visibility-secret-compat-visibility!';
const TENANT = 'shop';
const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().optional() }),
  notes: z.object({ body: z.string() }),
});

type Line = {
  collection: string;
  doc_id: string;
  operation?: string;
  data: Record<string, unknown> | null;
};

describe.each(compatStores)('compat face, visibility user, on $name', ({ create }) => {
  let store: Store;
  let engine: SyncEngine<typeof schema, any>;
  let http: SyncHttpServer;
  let url = '';
  let port = 0;
  let ann = '';
  let bob = '';

  beforeEach(async () => {
    store = await create();
    await store.init();
    // Writer rules only, no engine default views: the face's option alone gives the visibility.
    engine = createSyncEngine({
      store,
      schema,
      rules: writerRules(schema),
      // Notes: the first write wins (a resolver keeping the stored note), for conflict answers.
      resolvers: { notes: ({ current, incoming }) => current ?? incoming },
      retention: { pruneIntervalMs: 0 },
      stream: { heartbeatMs: 60_000, pollMs: 100 },
    });
    http = createSyncHttpServer({
      engine,
      authenticate: jwtAuthenticator({ secret: SECRET }),
      compatVisibility: 'user',
    });
    ({ url, port } = await http.listen(0, '127.0.0.1'));
    ann = await signDevToken(SECRET, { sub: 'ann', tenant: TENANT, expiresIn: '1h' });
    bob = await signDevToken(SECRET, { sub: 'bob', tenant: TENANT, expiresIn: '1h' });
  });
  afterEach(async () => {
    await http.close();
    await engine.close();
    await store.close();
  });

  const push = async (token: string, changes: Record<string, unknown>[]) => {
    const res = await call(url, '/sync/push', { token, body: { client_id: 'device', changes } });
    expect(res.status, res.text).toBe(200);
    return res.json.results as { doc_id: string; status: string; data?: unknown }[];
  };
  const upsert = (collection: string, doc_id: string, data: Record<string, unknown>) => ({
    collection,
    operation: 'upsert',
    doc_id,
    data,
    parent_version: null,
  });
  const pull = async (token: string, since?: string) => {
    const res = await call(url, `/sync/pull${since ? `?since=${encodeURIComponent(since)}` : ''}`, {
      token,
    });
    expect(res.status, res.text).toBe(200);
    return res.json as { changes: Line[]; last_seq: string; has_more: boolean };
  };
  /** No line ever carries Bob's data to Ann. */
  const noneOfBobs = (lines: Line[]) => expect(JSON.stringify(lines)).not.toContain('bob-secret');

  it('pull and full show each user only the documents they last wrote', async () => {
    await push(ann, [
      upsert('tasks', 'a1', { title: 'ann task' }),
      upsert('notes', 'an', { body: 'ann note' }),
    ]);
    await push(bob, [
      upsert('tasks', 'b1', { title: 'bob-secret task' }),
      upsert('notes', 'bn', { body: 'bob-secret note' }),
    ]);

    const annPull = await pull(ann);
    noneOfBobs(annPull.changes);
    expect(annPull.changes.map((c) => c.doc_id).sort()).toEqual(['a1', 'an']);
    const bobPull = await pull(bob);
    expect(bobPull.changes.map((c) => c.doc_id).sort()).toEqual(['b1', 'bn']);

    const annFull = await readFull(url, ann, 1);
    noneOfBobs(annFull.lines);
    expect(annFull.lines.map((l: Line) => `${l.collection}/${l.doc_id}`)).toEqual([
      'notes/an',
      'tasks/a1',
    ]);
    const bobFull = await readFull(url, bob, 1);
    expect(bobFull.lines.map((l: Line) => `${l.collection}/${l.doc_id}`)).toEqual([
      'notes/bn',
      'tasks/b1',
    ]);

    // A collection named in the query is filtered the same way.
    const named = await call(url, '/sync/pull?collections=tasks', { token: ann });
    expect(named.json.changes.map((c: Line) => c.doc_id)).toEqual(['a1']);
  });

  it("a document Bob overwrites leaves Ann's view as a delete (pull, full, old versions) and arrives whole for Bob", async () => {
    await push(ann, [upsert('tasks', 'a1', { title: 'ann task' })]);
    const before = await pull(ann);
    expect(before.changes.map((c) => c.doc_id)).toEqual(['a1']);
    const bobStart = await pull(bob);
    expect(bobStart.changes).toEqual([]);

    await push(bob, [upsert('tasks', 'a1', { title: 'bob-secret now' })]);
    const after = await pull(ann, before.last_seq);
    expect(after.changes).toEqual([
      {
        version: expect.any(String),
        collection: 'tasks',
        doc_id: 'a1',
        operation: 'delete',
        data: null,
      },
    ]);
    // From the beginning: Ann's own old version is superseded by the removal; Bob's data never shows.
    const fromStart = await pull(ann);
    noneOfBobs(fromStart.changes);
    expect(fromStart.changes.map((c) => [c.doc_id, c.operation])).toEqual([['a1', 'delete']]);
    expect((await readFull(url, ann)).lines).toEqual([]);

    const bobAfter = await pull(bob, bobStart.last_seq);
    expect(bobAfter.changes.map((c) => [c.doc_id, c.operation, c.data])).toEqual([
      ['a1', 'upsert', { title: 'bob-secret now' }],
    ]);

    // Ann writes it back: it returns to her view whole, and leaves Bob's.
    await push(ann, [upsert('tasks', 'a1', { title: 'ann again' })]);
    expect(
      (await pull(ann, after.last_seq)).changes.map((c) => [c.doc_id, c.operation, c.data]),
    ).toEqual([['a1', 'upsert', { title: 'ann again' }]]);
    expect(
      (await pull(bob, bobAfter.last_seq)).changes.map((c) => [c.doc_id, c.operation]),
    ).toEqual([['a1', 'delete']]);
  });

  it('the WebSocket stream sends Ann only her writes, and a delete when Bob overwrites one', async () => {
    await push(ann, [upsert('tasks', 'a1', { title: 'ann task' })]);
    await push(bob, [upsert('tasks', 'b0', { title: 'bob-secret before' })]);
    const stream = openStream(port, `?token=${ann}`);
    await stream.opened;
    stream.send({ type: 'subscribe', since: null });
    // Catch-up: only Ann's document.
    await eventually(() =>
      expect(stream.frames.some((f) => f.type === 'change' && f.doc_id === 'a1')).toBe(true),
    );

    await push(bob, [
      upsert('tasks', 'b1', { title: 'bob-secret live' }),
      upsert('notes', 'bn', { body: 'bob-secret note' }),
    ]);
    await push(ann, [upsert('notes', 'an', { body: 'ann note' })]);
    // Frames come in commit order: once Ann's later write is here, Bob's earlier one was skipped.
    await eventually(() => expect(stream.frames.some((f) => f.doc_id === 'an')).toBe(true));
    await push(bob, [upsert('tasks', 'a1', { title: 'bob-secret overwrite' })]);
    await eventually(() =>
      expect(stream.frames.some((f) => f.doc_id === 'a1' && f.operation === 'delete')).toBe(true),
    );

    const changes = stream.frames.filter((f) => f.type === 'change');
    noneOfBobs(changes);
    expect(changes.map((f) => [f.collection, f.doc_id, f.operation])).toEqual([
      ['tasks', 'a1', 'upsert'],
      ['notes', 'an', 'upsert'],
      ['tasks', 'a1', 'delete'],
    ]);
    expect(changes.at(-1)).toMatchObject({ data: null, last_seq: expect.any(String) });
    stream.ws.close();
    await stream.closed;
  });

  it("a conflict answer never carries the stored document (it may be another user's)", async () => {
    await push(bob, [upsert('notes', 'bn', { body: 'bob-secret note' })]);
    // The resolver keeps Bob's note: conflict_resolved, and the stored note stays Bob's.
    const results = await push(ann, [upsert('notes', 'bn', { body: 'ann tries' })]);
    expect(results).toEqual([
      { doc_id: 'bn', status: 'conflict_resolved', new_version: expect.any(String) },
    ]);
    noneOfBobs((await pull(ann)).changes);
    expect((await pull(ann)).changes).toEqual([]);
  });
});

describe('compat visibility user: configuration', () => {
  it('refuses an engine without a writer rule for every collection, naming them', async () => {
    const engine = createSyncEngine({
      store: (await compatStores[0]!.create()) as Store,
      schema,
      rules: { own: { collection: 'tasks', writer: true } },
      retention: { pruneIntervalMs: 0 },
    });
    const authenticate = jwtAuthenticator({ secret: SECRET });
    expect(() => createFastapiCompatHandler({ engine, authenticate, visibility: 'user' })).toThrow(
      /missing: notes/,
    );
    expect(() =>
      createFastapiCompatHandler({ engine, authenticate, visibility: 'bogus' as never }),
    ).toThrow(/'all' or 'user'/);
    expect(() => createFastapiCompatHandler({ engine, authenticate })).not.toThrow();
    await engine.close();
  });

  it('SYNC_COMPAT_VISIBILITY: all (default) or user; anything else stops the CLI naming it', () => {
    expect(readConfig(['serve'], {}).compatVisibility).toBe('all');
    expect(readConfig(['serve'], { SYNC_COMPAT_VISIBILITY: 'user' }).compatVisibility).toBe('user');
    expect(() => readConfig(['serve'], { SYNC_COMPAT_VISIBILITY: 'mine' })).toThrow(CliError);
    expect(() => readConfig(['serve'], { SYNC_COMPAT_VISIBILITY: 'mine' })).toThrow(
      /SYNC_COMPAT_VISIBILITY/,
    );
  });
});
