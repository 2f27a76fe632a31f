/**
 * Every read face is safe by construction (they call engine.pull/full/stream without a view, so
 * the actor's default views apply): REST pull and full, SSE, the raw WebSocket and the
 * fastapi-offline-sync face on a real server (PGlite) never show a task outside Ann's default
 * view `mine`, old versions included, nor anything of a collection only other rules name.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createSyncHttpServer } from '../../server/http/server.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import { createSyncAppRouter } from '../../server/trpc/app-router.js';
import { openSse } from '../rest/sse-client.js';
import { Memberships, viewsEngine } from './fixture.js';

const SECRET = 'views-faces-secret-views-faces-secret!';
const TENANT = 'acme-faces';

describe('default views on every face (PGlite, real server)', () => {
  let base = '';
  let token = '';
  let close: () => Promise<void>;
  let engine: ReturnType<typeof viewsEngine>;

  beforeAll(async () => {
    const store = await pgliteStore();
    await store.init();
    const members = new Memberships();
    members.grant('ann', 'p1');
    engine = viewsEngine(store, members);
    const http = createSyncHttpServer({
      engine,
      authenticate: jwtAuthenticator({ secret: SECRET }),
      router: createSyncAppRouter(engine),
    });
    base = (await http.listen(0, '127.0.0.1')).url;
    token = await signDevToken(SECRET, { sub: 'ann', tenant: TENANT, expiresIn: '1h' });
    close = async () => {
      await http.close();
      await engine.close();
      await store.close();
    };
    await engine.write(TENANT, [
      {
        collection: 'tasks',
        id: 'was-ann',
        op: 'upsert',
        data: { title: 'old secret', assignee: 'ann' },
      },
      {
        collection: 'tasks',
        id: 'bobs',
        op: 'upsert',
        data: { title: 'bob only', assignee: 'bob' },
      },
      { collection: 'parts', id: 'p1', op: 'upsert', data: { name: 'catalogue only' } },
      {
        collection: 'tasks',
        id: 'in-p1',
        op: 'upsert',
        data: { title: 'project task', assignee: 'carl', projectId: 'p1' },
      },
    ]);
    await engine.write(TENANT, [
      {
        collection: 'tasks',
        id: 'was-ann',
        op: 'patch',
        data: { assignee: 'bob', title: 'bob now' },
      },
    ]);
    await engine.write(TENANT, [
      {
        collection: 'tasks',
        id: 'anns',
        op: 'upsert',
        data: { title: 'ann task', assignee: 'ann' },
      },
      { collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'everyone' } },
    ]);
  }, 60_000);
  afterAll(async () => close?.());

  const auth = () => ({ authorization: `Bearer ${token}` });
  /** Every task upsert must be Ann's; nothing of `parts`; no old version's data. */
  const checkChanges = (
    changes: {
      collection: string;
      id?: string;
      doc_id?: string;
      op?: string;
      operation?: string;
      data: Record<string, unknown> | null;
    }[],
  ) => {
    for (const c of changes) {
      expect(c.collection).not.toBe('parts');
      if (c.collection === 'tasks' && c.data)
        expect(c.data.assignee, JSON.stringify(c)).toBe('ann');
      expect(JSON.stringify(c)).not.toContain('secret');
      expect(JSON.stringify(c)).not.toContain('bob');
    }
  };

  it('REST pull and full', async () => {
    const pull = await (await fetch(`${base}/sync/pull`, { headers: auth() })).json();
    checkChanges(pull.changes);
    expect(
      pull.changes
        .filter((c: { op: string }) => c.op === 'upsert')
        .map((c: { id: string }) => c.id)
        .sort(),
    ).toEqual(['anns', 'n1']);
    const full = (await (await fetch(`${base}/sync/full`, { headers: auth() })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    checkChanges(full);
    expect(full.map((d: { id: string }) => d.id)).toEqual(['n1', 'anns']);
  });

  it('SSE and the raw WebSocket', async () => {
    const abort = new AbortController();
    const sse = await openSse(`${base}/sync/stream`, auth(), abort.signal);
    const first = (await sse.events[Symbol.asyncIterator]().next()).value!;
    expect(first.event).toBe('changes');
    checkChanges(first.data.changes);
    expect(
      first.data.changes
        .filter((c: { op: string }) => c.op === 'upsert')
        .map((c: { id: string }) => c.id)
        .sort(),
    ).toEqual(['anns', 'n1']);
    abort.abort();

    const ws = new WebSocket(
      `${base.replace('http', 'ws')}/sync/stream?token=${encodeURIComponent(token)}`,
    );
    const frame = new Promise<{ type: string; changes: never[] }>((resolve) =>
      ws.on('message', (m) => resolve(JSON.parse(String(m)))),
    );
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', since: null }));
    const got = await frame;
    expect(got.type).toBe('changes');
    checkChanges(got.changes);
    ws.close();
  });

  it('the fastapi-offline-sync face (pull and full)', async () => {
    const compat = `${base}/compat/fastapi-offline-sync`;
    const pull = await (await fetch(`${compat}/sync/pull`, { headers: auth() })).json();
    checkChanges(pull.changes);
    expect(
      pull.changes
        .filter((c: { operation: string }) => c.operation === 'upsert')
        .map((c: { doc_id: string }) => c.doc_id)
        .sort(),
    ).toEqual(['anns', 'n1']);
    const full = (await (await fetch(`${compat}/sync/full`, { headers: auth() })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    checkChanges(full);
    expect(full.map((d: { doc_id: string }) => d.doc_id).sort()).toEqual(['anns', 'n1']);
  });

  it('REST view= and params=: pull, full, SSE and the raw WebSocket read that view; refusals answer 400/403 before anything opens', async () => {
    const q = `view=project&params=${encodeURIComponent(JSON.stringify({ projectId: 'p1' }))}`;
    const pull = await (await fetch(`${base}/sync/pull?${q}`, { headers: auth() })).json();
    expect(pull.changes.map((c: { id: string }) => c.id)).toEqual(['in-p1']);
    const full = (await (await fetch(`${base}/sync/full?${q}`, { headers: auth() })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(full.map((d: { id: string }) => d.id)).toEqual(['in-p1']);
    const abort = new AbortController();
    const sse = await openSse(`${base}/sync/stream?${q}`, auth(), abort.signal);
    const first = (await sse.events[Symbol.asyncIterator]().next()).value!;
    expect(first.data.changes.map((c: { id: string }) => c.id)).toEqual(['in-p1']);
    abort.abort();

    const error = async (path: string) => {
      const res = await fetch(`${base}${path}`, { headers: auth() });
      const body = await res.json();
      return [res.status, body.error.code, body.error.issues[0]?.path];
    };
    expect(await error('/sync/pull?view=nope')).toEqual([400, 'BAD_REQUEST', 'view.rule']);
    expect(
      await error(`/sync/full?view=project&params=${encodeURIComponent('{"projectId":3}')}`),
    ).toEqual([400, 'BAD_REQUEST', 'view.params.projectId']);
    expect(await error('/sync/pull?view=project&params=%7Bnot-json')).toEqual([
      400,
      'BAD_REQUEST',
      'params',
    ]);
    expect(await error('/sync/pull?params=%7B%7D')).toEqual([400, 'BAD_REQUEST', 'params']);
    expect(
      (
        await error(`/sync/stream?view=project&params=${encodeURIComponent('{"projectId":"p2"}')}`)
      ).slice(0, 2),
    ).toEqual([403, 'FORBIDDEN']);

    const ws = new WebSocket(
      `${base.replace('http', 'ws')}/sync/stream?token=${encodeURIComponent(token)}`,
    );
    const frame = new Promise<{ type: string; changes: { id: string }[] }>((resolve) =>
      ws.on('message', (m) => resolve(JSON.parse(String(m)))),
    );
    await new Promise((r) => ws.once('open', r));
    ws.send(
      JSON.stringify({
        type: 'subscribe',
        since: null,
        view: { rule: 'project', params: { projectId: 'p1' } },
      }),
    );
    expect((await frame).changes.map((c) => c.id)).toEqual(['in-p1']);
    ws.close();
    const refused = new WebSocket(
      `${base.replace('http', 'ws')}/sync/stream?token=${encodeURIComponent(token)}`,
    );
    const closed = new Promise<number>((resolve) => refused.on('close', (code) => resolve(code)));
    await new Promise((r) => refused.once('open', r));
    refused.send(
      JSON.stringify({
        type: 'subscribe',
        since: null,
        view: { rule: 'project', params: { projectId: 'p2' } },
      }),
    );
    expect(await closed).toBe(4403);
  });
  it("Ann's own write outside her view (a task she assigns to Dave, pushed over REST) reaches her on every face as a left removal, never its data", async () => {
    const before = await (await fetch(`${base}/sync/pull`, { headers: auth() })).json();
    const pushed = await fetch(`${base}/sync/push`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({
        clientId: 'ann-phone',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 'handed-over',
            op: 'upsert',
            data: { title: 'for dave', assignee: 'dave' },
            baseVersion: null,
          },
        ],
      }),
    });
    expect(pushed.status).toBe(200);
    expect((await pushed.json()).results[0].status).toBe('accepted');
    type Change = {
      id?: string;
      doc_id?: string;
      op: string;
      operation?: string;
      data: unknown;
      left?: boolean;
    };
    const removal = (changes: Change[]) =>
      changes.filter((c) => (c.id ?? c.doc_id) === 'handed-over');
    const left = [{ op: 'delete', data: null, left: true }];
    const shape = (cs: { op: string; data: unknown; left?: boolean }[]) =>
      cs.map(({ op, data, left: l }) => ({ op, data, left: l }));

    // REST pull, from the checkpoint before the write and from the start.
    const since = await (
      await fetch(`${base}/sync/pull?since=${encodeURIComponent(before.checkpoint)}`, {
        headers: auth(),
      })
    ).json();
    checkChanges(since.changes);
    expect(shape(removal(since.changes))).toEqual(left);
    const all = await (await fetch(`${base}/sync/pull`, { headers: auth() })).json();
    expect(shape(removal(all.changes))).toEqual(left);
    // The export holds only what she reads.
    const full = (await (await fetch(`${base}/sync/full`, { headers: auth() })).text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(removal(full)).toEqual([]);

    // SSE and the raw WebSocket catch-up.
    const abort = new AbortController();
    const sse = await openSse(`${base}/sync/stream`, auth(), abort.signal);
    const first = (await sse.events[Symbol.asyncIterator]().next()).value!;
    abort.abort();
    checkChanges(first.data.changes);
    expect(shape(removal(first.data.changes))).toEqual(left);
    const ws = new WebSocket(
      `${base.replace('http', 'ws')}/sync/stream?token=${encodeURIComponent(token)}`,
    );
    const frame = new Promise<{ changes: never[] }>((resolve) =>
      ws.on('message', (m) => resolve(JSON.parse(String(m)))),
    );
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', since: null }));
    const got = await frame;
    ws.close();
    checkChanges(got.changes);
    expect(shape(removal(got.changes))).toEqual(left);

    // The fastapi-offline-sync face: a delete its clients apply, with no data.
    const compat = await (
      await fetch(`${base}/compat/fastapi-offline-sync/sync/pull`, { headers: auth() })
    ).json();
    checkChanges(compat.changes);
    const gone = removal(compat.changes);
    expect(gone.map((c) => c.operation)).toEqual(['delete']);
    expect(JSON.stringify(gone)).not.toContain('dave');
  });
});
