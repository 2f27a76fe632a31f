/** The fastapi-offline-sync wire face on the demo server: the documented examples, mixed clients, migration from an old HLC, retries, bad input. */
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHlc } from '../../shared/hlc.js';
import { eventually, startServer, type TestServer } from '../trpc/harness.js';
import { call, COMPAT, compatStores, openStream, readFull } from './harness.js';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/fastapi-offline-sync.json', import.meta.url), 'utf8'),
);
const OLD_HLC = '20260502T120000.000Z-0001-a1b2';

describe.each(compatStores)('fastapi-offline-sync face on $name', ({ create }) => {
  let srv: TestServer;
  let token: string;
  beforeEach(async () => {
    srv = await startServer(await create());
    token = await srv.token('alice', 'acme');
  });
  afterEach(async () => srv.close());

  it('answers the documented push request and pulls it back in the documented shapes', async () => {
    const push = await call(srv.url, '/sync/push', { token, body: fixture.pushRequest });
    expect(push.status).toBe(200);
    expect(Object.keys(push.json)).toEqual(['results']);
    expect(push.json.results).toHaveLength(1);
    const [r] = push.json.results;
    expect(r).toEqual({
      doc_id: 'task-abc-123',
      status: 'accepted',
      new_version: expect.any(String),
    });
    expect(isHlc(r.new_version)).toBe(true);

    const pull = await call(srv.url, '/sync/pull', { token });
    expect(pull.status).toBe(200);
    expect(pull.json.changes).toEqual([
      {
        version: r.new_version,
        collection: 'tasks',
        doc_id: 'task-abc-123',
        operation: 'upsert',
        data: { title: 'Buy milk', done: false },
      },
    ]);
    expect(Object.keys(pull.json.changes[0])).toEqual(
      Object.keys(fixture.pullResponseShape.changes[0]),
    );
    expect(typeof pull.json.last_seq).toBe('string');
    const again = await call(
      srv.url,
      `/sync/pull?since=${encodeURIComponent(pull.json.last_seq)}&collections=tasks&limit=500`,
      { token },
    );
    expect(again.json).toMatchObject({ changes: [], last_seq: pull.json.last_seq });
  });

  it("an old-format client and a tRPC client on the same scope see each other's writes, live on the WebSocket too", async () => {
    const trpc = srv.client(token).trpc;
    const first = await call(srv.url, '/sync/pull', { token });
    const stream = openStream(srv.port, `?token=${token}`);
    await stream.opened;
    stream.send({ type: 'subscribe', since: first.json.last_seq, collections: ['tasks'] });

    const live: any[] = [];
    const sub = trpc.sync.stream.subscribe(
      { since: first.json.last_seq },
      { onData: (e: any) => live.push(e.data ?? e) },
    );
    // tRPC → old client (pull and stream frame)
    await trpc.sync.push.mutate({
      clientId: 'web-1',
      changes: [
        {
          mutationId: 1,
          collection: 'tasks',
          id: 'from-trpc',
          op: 'upsert',
          data: { title: 'typed', done: false },
        },
      ],
    });
    await eventually(() =>
      expect(stream.frames.some((f) => f.type === 'change' && f.doc_id === 'from-trpc')).toBe(true),
    );
    const frame = stream.frames.find((f) => f.doc_id === 'from-trpc');
    expect(frame).toMatchObject({
      type: 'change',
      collection: 'tasks',
      doc_id: 'from-trpc',
      operation: 'upsert',
      data: { title: 'typed', done: false },
    });
    expect(isHlc(frame.version)).toBe(true);
    const pulled = await call(
      srv.url,
      `/sync/pull?since=${encodeURIComponent(first.json.last_seq)}`,
      { token },
    );
    expect(pulled.json.changes.map((c: any) => c.doc_id)).toEqual(['from-trpc']);

    // old client → tRPC (pull) and the old client's own stream
    const push = await call(srv.url, '/sync/push', {
      token,
      body: {
        client_id: 'rn-1',
        changes: [
          {
            collection: 'tasks',
            operation: 'upsert',
            doc_id: 'from-old',
            data: { title: 'legacy', done: true },
            parent_version: null,
          },
          {
            collection: 'tasks',
            operation: 'delete',
            doc_id: 'from-trpc',
            parent_version: frame.version,
          },
        ],
      },
    });
    expect(push.json.results.map((r: any) => r.status)).toEqual(['accepted', 'accepted']);
    const page = await trpc.sync.pull.query({});
    await eventually(() =>
      expect(
        live.some((e) => e.type === 'changes' && e.changes.some((c: any) => c.id === 'from-old')),
      ).toBe(true),
    );
    sub.unsubscribe();
    expect(page.changes.map((c) => [c.id, c.op])).toEqual(
      expect.arrayContaining([
        ['from-old', 'upsert'],
        ['from-trpc', 'delete'],
      ]),
    );
    await eventually(() =>
      expect(
        stream.frames.some(
          (f) => f.doc_id === 'from-trpc' && f.operation === 'delete' && f.data === null,
        ),
      ).toBe(true),
    );
    expect(stream.frames.find((f) => f.doc_id === 'from-old')).toMatchObject({
      operation: 'upsert',
      data: { title: 'legacy', done: true },
    });
    // another scope sees none of it
    const other = await call(srv.url, '/sync/pull', { token: await srv.token('mallory', 'evil') });
    expect(other.json.changes).toEqual([]);
    stream.ws.close();
  });

  it('a migrated client with an old HLC since is told to rebuild, rebuilds from full and then pulls from last_seq to convergence', async () => {
    const trpc = srv.client(token).trpc;
    await trpc.sync.push.mutate({
      clientId: 'web-1',
      changes: [1, 2, 3, 4, 5].map((n) => ({
        mutationId: n,
        collection: 'tasks' as const,
        id: `t${n}`,
        op: 'upsert' as const,
        data: { title: `task ${n}` },
      })),
    });
    await trpc.sync.push.mutate({
      clientId: 'web-1',
      changes: [
        { mutationId: 6, collection: 'tasks', id: 't2', op: 'delete' },
        { mutationId: 7, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'hi' } },
      ],
    });

    const stale = await call(srv.url, `/sync/pull?since=${OLD_HLC}&collections=tasks`, { token });
    expect(stale.status).toBe(200);
    expect(stale.json).toEqual({ full_resync_required: true, collections: ['tasks'] });
    expect((await call(srv.url, `/sync/pull?since=${OLD_HLC}`, { token })).json).toEqual(
      fixture.resyncResponse,
    );
    const ws = openStream(srv.port);
    await ws.opened;
    ws.send({ type: 'subscribe', since: OLD_HLC, collections: ['tasks'], token });
    expect((await ws.closed).code).toBe(1000);
    expect(ws.frames).toEqual([{ type: 'full_resync_required', collections: ['tasks'] }]);

    // rebuild: every page, gzip, tombstones included
    const local = new Map<string, any>();
    const full = await readFull(srv.url, token, 2);
    expect(full.pages).toBe(3);
    expect(full.encodings.every((e) => e === 'gzip')).toBe(true);
    for (const line of full.lines) {
      expect(Object.keys(line)).toEqual(expect.arrayContaining(['collection', 'doc_id', 'data']));
      if (line.deleted) local.delete(`${line.collection}/${line.doc_id}`);
      else local.set(`${line.collection}/${line.doc_id}`, line.data);
    }
    expect(full.lines.find((l) => l.doc_id === 't2')).toMatchObject({
      deleted: true,
      data: { _sync_deleted: true },
    });

    // a write after the export, then pull from X-Sync-LastSeq
    await trpc.sync.push.mutate({
      clientId: 'web-1',
      changes: [
        { mutationId: 8, collection: 'tasks', id: 't1', op: 'patch', data: { done: true } },
      ],
    });
    const next = await call(srv.url, `/sync/pull?since=${encodeURIComponent(full.lastSeq)}`, {
      token,
    });
    expect(next.json.full_resync_required).toBeUndefined();
    for (const c of next.json.changes) {
      if (c.operation === 'delete') local.delete(`${c.collection}/${c.doc_id}`);
      else local.set(`${c.collection}/${c.doc_id}`, c.data);
    }
    const server = (
      await srv.engine.full({ userId: 'alice', scopeId: 'acme' }, { limit: 1000 })
    ).docs.filter((d) => !d.deleted);
    expect(Object.fromEntries(local)).toEqual(
      Object.fromEntries(server.map((d) => [`${d.collection}/${d.id}`, d.data])),
    );
    expect(local.get('tasks/t1')).toEqual({ title: 'task 1', done: true });
  });

  it('a retried push (same body, lost response) is applied once and answered with its first outcome', async () => {
    const body = {
      client_id: 'rn-1',
      changes: [
        {
          collection: 'tasks',
          operation: 'upsert',
          doc_id: 'r1',
          data: { title: 'once', done: false },
          parent_version: null,
        },
      ],
    };
    const first = await call(srv.url, '/sync/push', { token, body });
    const afterFirst = await call(srv.url, '/sync/pull', { token });
    // meanwhile another device edits the document
    await srv.client(token).trpc.sync.push.mutate({
      clientId: 'web-1',
      changes: [
        { mutationId: 1, collection: 'tasks', id: 'r1', op: 'patch', data: { done: true } },
      ],
    });
    const retry = await call(srv.url, '/sync/push', { token, body });
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual(first.json);
    const after = await call(
      srv.url,
      `/sync/pull?since=${encodeURIComponent(afterFirst.json.last_seq)}`,
      { token },
    );
    // only the other device's commit follows: the retry wrote nothing, so the newer edit stands
    expect(after.json.changes).toHaveLength(1);
    expect(after.json.changes[0].data).toEqual({ title: 'once', done: true });
    // a new change (different body) from the same client is applied
    const next = await call(srv.url, '/sync/push', {
      token,
      body: {
        client_id: 'rn-1',
        changes: [
          {
            ...body.changes[0],
            data: { title: 'twice', done: true },
            parent_version: after.json.changes[0].version,
          },
        ],
      },
    });
    expect(next.json.results[0].status).toBe('accepted');
    expect(next.json.results[0].new_version > after.json.changes[0].version).toBe(true);
  });

  it('the same content sent again after other pushes is a new write (ticked, unticked, ticked stays ticked); only a repeat of the last push is a retry', async () => {
    const push = (done: boolean) => ({
      client_id: 'rn-aba',
      changes: [
        {
          collection: 'tasks',
          operation: 'upsert',
          doc_id: 'aba',
          data: { title: 'tick', done },
          parent_version: null,
        },
      ],
    });
    const states: boolean[] = [];
    for (const done of [true, false, true]) {
      const res = await call(srv.url, '/sync/push', { token, body: push(done) });
      expect(res.json.results[0].status).toBe('accepted');
      const pulled = await call(srv.url, '/sync/pull', { token });
      states.push(
        pulled.json.changes.find((c: { doc_id: string }) => c.doc_id === 'aba').data.done,
      );
    }
    expect(states).toEqual([true, false, true]);
    // A retry of that last push (its answer lost) is answered with the first outcome and writes nothing.
    const before = await call(srv.url, '/sync/pull', { token });
    const retry = await call(srv.url, '/sync/push', { token, body: push(true) });
    expect(retry.json.results[0].status).toBe('accepted');
    const after = await call(
      srv.url,
      `/sync/pull?since=${encodeURIComponent(before.json.last_seq)}`,
      { token },
    );
    expect(after.json.changes).toHaveLength(0);
    // Another user's push with the same client_id is that user's own: it never answers for this one.
    const bob = await srv.token('bob', 'acme');
    const bobs = await call(srv.url, '/sync/push', { token: bob, body: push(false) });
    expect(bobs.json.results[0].status).toBe('accepted');
    const mine = await call(srv.url, '/sync/push', { token, body: push(false) });
    expect(mine.json.results[0].status).toBe('accepted');
    const latest = await call(
      srv.url,
      `/sync/pull?since=${encodeURIComponent(before.json.last_seq)}`,
      { token },
    );
    expect(latest.json.changes.at(-1).data.done).toBe(false);
  });

  it('bad input gets a clear 4xx naming the field, and nothing is written', async () => {
    const cases: [unknown, number, string][] = [
      [{ changes: [] }, 400, 'client_id'],
      [
        {
          client_id: 'd',
          changes: [{ collection: 'tasks', operation: 'patch', doc_id: 'x', data: {} }],
        },
        400,
        'changes.0.operation',
      ],
      [
        { client_id: 'd', changes: [{ collection: 'tasks', operation: 'upsert', doc_id: 'x' }] },
        400,
        'changes.0.data',
      ],
      [
        {
          client_id: 'd',
          changes: [{ collection: 'nope', operation: 'upsert', doc_id: 'x', data: { title: 'a' } }],
        },
        400,
        'changes.0.collection',
      ],
      [
        {
          client_id: 'd',
          changes: [
            {
              collection: 'tasks',
              operation: 'upsert',
              doc_id: 'x',
              data: { title: 'a' },
              parent_version: 'yesterday',
            },
          ],
        },
        400,
        'changes.0.parent_version',
      ],
      [
        {
          client_id: 'd',
          changes: [
            { collection: 'tasks', operation: 'upsert', doc_id: 'ok', data: { title: 'fine' } },
            { collection: 'tasks', operation: 'upsert', doc_id: 'x', data: { title: 7 } },
          ],
        },
        400,
        'changes.1.data.title',
      ],
      ['{not json', 400, 'malformed JSON'],
    ];
    for (const [body, status, names] of cases) {
      const res = await call(srv.url, '/sync/push', { token, body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(typeof res.json.detail).toBe('string');
      expect(res.json.detail + JSON.stringify(res.json.error.issues)).toContain(names);
    }
    expect((await call(srv.url, '/sync/pull', { token })).json.changes).toEqual([]);
    expect((await call(srv.url, '/sync/push', { body: fixture.pushRequest })).status).toBe(401);
    expect(
      (
        await call(srv.url, '/sync/push', {
          token,
          body: 'x',
          headers: { 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(415);
    for (const q of ['limit=1001', 'limit=0', 'limit=abc', 'collections=nope', 'bogus=1']) {
      const res = await call(srv.url, `/sync/pull?${q}`, { token });
      expect(res.status, q).toBe(400);
      expect(res.json.detail).toMatch(/limit|collections|bogus/);
    }
    expect((await call(srv.url, '/sync/pull', { token, method: 'POST', body: {} })).status).toBe(
      405,
    );
    expect((await call(srv.url, '/sync/nothing', { token })).status).toBe(404);
    const ws = openStream(srv.port);
    await ws.opened;
    ws.send({ type: 'hello' });
    expect((await ws.closed).code).toBe(4400);
    expect(ws.frames[0]).toMatchObject({ type: 'error', error: { code: 'BAD_REQUEST' } });
    const noAuth = openStream(srv.port);
    await noAuth.opened;
    noAuth.send({ type: 'subscribe', since: null });
    expect((await noAuth.closed).code).toBe(4401);
  });

  it('sends a heartbeat on an idle stream', async () => {
    const ws = openStream(srv.port, `?token=${token}`);
    await ws.opened;
    ws.send({ type: 'subscribe' });
    await eventually(
      () =>
        expect(
          ws.frames.some((f) => f.type === 'heartbeat' && typeof f.last_seq === 'string'),
        ).toBe(true),
      3000,
    );
    ws.ws.close();
  });
});

describe('fastapi-offline-sync OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document served at …/openapi.json', async () => {
    const { memoryStore } = await import('../../server/stores/memory.js');
    const srv = await startServer(memoryStore());
    try {
      const res = await fetch(`${srv.url}${COMPAT}/openapi.json`);
      expect(res.status).toBe(200);
      const doc = await res.json();
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          `${COMPAT}/sync/push`,
          `${COMPAT}/sync/pull`,
          `${COMPAT}/sync/full`,
          `${COMPAT}/sync/stream`,
        ]),
      );
      await SwaggerParser.validate(structuredClone(doc));
    } finally {
      await srv.close();
    }
  });
});
