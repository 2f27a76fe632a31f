/**
 * A device's identity is its own (issue: cloned stores and hostile tenant members): a copied local
 * store (a restored phone backup) and another user pushing under a device's client id never make a
 * write the app saw vanish. Real server on 127.0.0.1 over PGlite and PostgreSQL, real SQLite files.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TRPCClientError } from '@trpc/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createSyncClient, type ClientIdEvent, type SyncClient } from '../../client/index.js';
import { betterSqlite3Driver, sqliteLocalStore } from '../../client/sqlite/index.js';
import type { AppRouter } from '../../server/demo/app-router.js';
import { demoSchema } from '../../server/demo/schema.js';
import { api } from '../rest/harness.js';
import { realStoreCases, useRealServer } from './real-server.js';

const TENANT = 'clinic';

describe.each(realStoreCases('ident'))('device identity on $name', (storeCase) => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-identity-'));
  const server = useRealServer(storeCase);
  const open: SyncClient<typeof demoSchema>[] = [];
  afterAll(async () => {
    for (const client of open) await client.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const tokenOf = (user: string) => server().tokenOf(user, TENANT);
  const trpcFor = (user: string) => server().trpcFor(user, TENANT);
  /** A device: the client library on a SQLite file, signed in as `user`. */
  const device = async (file: string, user: string) => {
    const trpc = await trpcFor(user);
    const client = createSyncClient({
      api: trpc.sync,
      schema: demoSchema,
      store: sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, file)))),
      retry: { retries: 2, baseMs: 10, maxMs: 50 },
    });
    open.push(client);
    return client;
  };
  const copyStore = (from: string, to: string) => {
    for (const suffix of ['', '-wal', '-shm'])
      if (existsSync(join(dir, from + suffix)))
        copyFileSync(join(dir, from + suffix), join(dir, to + suffix));
  };
  /** How many times the server's history holds each document id (every write here is a new document). */
  const appliedCounts = async (scope: string) => {
    const counts = new Map<string, number>();
    for (const e of await server().store.readOplog(scope, { afterSeq: 0 }))
      counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    return counts;
  };
  const serverTitles = async (user: string) => {
    const page = await (await trpcFor(user)).sync.full.query({ limit: 1000 });
    return new Map(
      page.docs.filter((d) => !d.deleted).map((d) => [d.id, (d.data as { title: string }).title]),
    );
  };

  it('two devices on one copied SQLite store: every write either device saw accepted is on the server exactly once', async () => {
    const a = await device('phone.db', 'nurse');
    const tasksA = a.collection('tasks');
    await tasksA.put('copy-0', { title: 'written before the backup (A)' });
    await tasksA.put('copy-1', { title: 'also before the backup (A)' });
    const idA = await a.clientId();
    await a.close();
    open.splice(open.indexOf(a), 1);
    // The backup is restored onto a second phone: the same client id, outbox and counters.
    copyStore('phone.db', 'restored.db');
    const a2 = await device('phone.db', 'nurse');
    const b = await device('restored.db', 'nurse');
    expect(await b.clientId()).toBe(idA);
    const changed: ClientIdEvent[] = [];
    b.on('clientId', (e) => changed.push(e));

    await a2.sync(); // pushes copy-0 and copy-1 (mutation ids 1, 2)
    // Both write under the same next mutation ids (3, 4), different changes.
    await a2.collection('tasks').put('a-1', { title: 'A after restore' });
    await a2.collection('tasks').put('a-2', { title: 'A again' });
    await b.collection('tasks').put('b-1', { title: 'B after restore' });
    await b.collection('tasks').put('b-2', { title: 'B again' });
    await a2.sync();
    // B's push holds copy-0/1 (recorded as these very changes) and b-1/2 under ids A used for other changes.
    await b.sync();
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ previous: idA, recorded: 2, renumbered: 2 });
    expect(await b.clientId()).toBe(changed[0]!.clientId);
    expect(await b.clientId()).not.toBe(idA);
    expect(await a2.clientId()).toBe(idA);
    await a2.sync();
    expect(await a2.pending()).toBe(0);
    expect(await b.pending()).toBe(0);
    expect(await b.rejected()).toEqual([]);

    const expected = new Map([
      ['copy-0', 'written before the backup (A)'],
      ['copy-1', 'also before the backup (A)'],
      ['a-1', 'A after restore'],
      ['a-2', 'A again'],
      ['b-1', 'B after restore'],
      ['b-2', 'B again'],
    ]);
    expect(await serverTitles('nurse')).toEqual(expected);
    const counts = await appliedCounts(TENANT);
    for (const id of expected.keys()) expect(counts.get(id), id).toBe(1);
    // Both devices converge to the server's state.
    for (const client of [a2, b]) {
      const rows = await client.collection('tasks').query({});
      expect(new Map(rows.map((r) => [r.id, r.doc.title]))).toEqual(expected);
    }
    // Versions carry a node id of the device's own, never its client id.
    for (const e of await server().store.readOplog(TENANT, { afterSeq: 0 })) {
      expect(e.version).not.toContain(idA);
      expect(e.version).not.toContain(changed[0]!.clientId);
    }
  });

  it("a tenant member pushing under another device's client id (tRPC, REST, compat) changes nothing for that device", async () => {
    const victim = await device('victim.db', 'tech-1');
    const tasks = victim.collection('tasks');
    await tasks.put('v-0', { title: 'before the attack' });
    await victim.sync();
    const victimId = await victim.clientId();
    const attacker = await trpcFor('tech-2');
    const attackerToken = await tokenOf('tech-2');
    const change = (mutationId: number) => ({
      mutationId,
      collection: 'tasks' as const,
      id: `x-${mutationId}`,
      op: 'upsert' as const,
      data: { title: 'attacker' },
    });

    for (const mutationId of [2 ** 53 - 1, 2, 1]) {
      const error = await attacker.sync.push
        .mutate({ clientId: victimId, changes: [change(mutationId)] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<AppRouter>).data?.sync?.code).toBe('CLIENT_ID_CONFLICT');
      const rest = await api(server().url, '/sync/push', {
        token: attackerToken,
        body: { clientId: victimId, changes: [change(mutationId)] },
      });
      expect(rest.status).toBe(409);
      expect(rest.json.error.code).toBe('CLIENT_ID_CONFLICT');
    }
    // The compat face keys its ledger by user: the same client_id from another user is that user's own push.
    const compat = await api(server().url, '/compat/fastapi-offline-sync/sync/push', {
      token: attackerToken,
      body: {
        client_id: victimId,
        changes: [
          {
            collection: 'tasks',
            operation: 'upsert',
            doc_id: 'x-compat',
            data: { title: 'attacker via compat' },
          },
        ],
      },
    });
    expect(compat.status).toBe(200);

    // The victim keeps writing: every write reaches the server once, nothing is rejected or lost.
    for (let i = 1; i <= 3; i++) await tasks.put(`v-${i}`, { title: `after the attack ${i}` });
    await victim.sync();
    expect(await victim.pending()).toBe(0);
    expect(await victim.rejected()).toEqual([]);
    expect(await victim.clientId()).toBe(victimId);
    const titles = await serverTitles('tech-1');
    const counts = await appliedCounts(TENANT);
    for (let i = 0; i <= 3; i++) {
      expect(titles.get(`v-${i}`)).toBe(i === 0 ? 'before the attack' : `after the attack ${i}`);
      expect(counts.get(`v-${i}`)).toBe(1);
    }
    for (const id of ['x-1', 'x-2', `x-${2 ** 53 - 1}`]) expect(titles.has(id)).toBe(false);
  });

  it('compat: two copies of one fastapi-offline-sync client (same client_id) pushing different changes both apply, each once', async () => {
    const token = await tokenOf('field-user');
    const push = (doc: string) => ({
      client_id: 'restored-rn-device',
      changes: [{ collection: 'tasks', operation: 'upsert', doc_id: doc, data: { title: doc } }],
    });
    for (const doc of ['compat-orig-1', 'compat-copy-1', 'compat-orig-2', 'compat-copy-2']) {
      const res = await api(server().url, '/compat/fastapi-offline-sync/sync/push', {
        token,
        body: push(doc),
      });
      expect(res.json.results[0].status, doc).toBe('accepted');
    }
    const titles = await serverTitles('field-user');
    const counts = await appliedCounts(TENANT);
    for (const doc of ['compat-orig-1', 'compat-copy-1', 'compat-orig-2', 'compat-copy-2']) {
      expect(titles.get(doc)).toBe(doc);
      expect(counts.get(doc)).toBe(1);
    }
  });

  it('an answer naming another document (or no answer for an entry) never drops the outbox entry', async () => {
    const trpc = await trpcFor('checker');
    let garble = true;
    const api = {
      pull: trpc.sync.pull,
      full: trpc.sync.full,
      stream: trpc.sync.stream,
      push: {
        mutate: async (input: Parameters<typeof trpc.sync.push.mutate>[0]) => {
          const res = await trpc.sync.push.mutate(input);
          return garble
            ? { ...res, results: res.results.map((r) => ({ ...r, id: `${r.id}-not-mine` })) }
            : res;
        },
      },
    };
    const client = createSyncClient({
      api,
      schema: demoSchema,
      store: sqliteLocalStore(betterSqlite3Driver(new Database(join(dir, 'garbled.db')))),
      retry: { retries: 0, baseMs: 1, maxMs: 1 },
    });
    open.push(client);
    await client.collection('tasks').put('kept-1', { title: 'kept' });
    await client.push();
    expect(await client.pending()).toBe(1); // the answer was about another document: the entry stays
    garble = false;
    await client.push(); // the same change again: the server holds it, so it is a duplicate and settles
    expect(await client.pending()).toBe(0);
    expect((await appliedCounts(TENANT)).get('kept-1')).toBe(1);
  });

  it('REST: a second device sending other changes under the same client id and mutation ids gets 409 CLIENT_ID_CONFLICT and nothing applies', async () => {
    const token = await tokenOf('rest-user');
    const push = (ids: number[], prefix: string) => ({
      clientId: 'shared-rest-device',
      changes: ids.map((mutationId) => ({
        mutationId,
        collection: 'tasks',
        id: `${prefix}-${mutationId}`,
        op: 'upsert',
        data: { title: prefix },
      })),
    });
    expect(
      (await api(server().url, '/sync/push', { token, body: push([1, 2], 'first') })).status,
    ).toBe(200);
    const before = await server().store.head(TENANT);
    const clone = await api(server().url, '/sync/push', {
      token,
      body: {
        ...push([1, 2, 3], 'first'),
        changes: [...push([1], 'first').changes, ...push([2, 3], 'clone').changes],
      },
    });
    expect(clone.status).toBe(409);
    expect(clone.json.error).toMatchObject({ code: 'CLIENT_ID_CONFLICT', recorded: [1] });
    expect(clone.json.error.issues[0].path).toBe('changes.1.mutationId');
    expect(await server().store.head(TENANT)).toEqual(before);
    // The retry of the first device is still a duplicate of its own changes.
    const retry = await api(server().url, '/sync/push', { token, body: push([1, 2], 'first') });
    expect(retry.json.results.map((r: { status: string }) => r.status)).toEqual([
      'duplicate',
      'duplicate',
    ]);
  });
});
