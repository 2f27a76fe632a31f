/** The REST face on every store: push, pull, full (NDJSON, gzip), SSE and raw WebSocket streams, tenant isolation. */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, startServer, storeCases, taskChanges, type TestServer } from './harness.js';
import { rawGet } from './raw-http.js';
import { collect, openSse } from './sse-client.js';

const cases = await storeCases();

async function pushTasks(
  s: TestServer,
  token: string,
  clientId: string,
  start: number,
  count: number,
  perPush = count,
) {
  for (let i = 0; i < count; i += perPush) {
    const res = await api(s.base, '/sync/push', {
      token,
      body: { clientId, changes: taskChanges(start + i, Math.min(perPush, count - i)) },
    });
    expect(res.status).toBe(200);
  }
}

function wsMessages(ws: WebSocket) {
  const queue: any[] = [];
  let wake: (() => void) | null = null;
  ws.on('message', (data) => {
    queue.push(JSON.parse(data.toString()));
    wake?.();
  });
  return async function until(pred: (all: any[]) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    while (!pred(queue)) {
      if (Date.now() > deadline)
        throw new Error(`timed out: ${JSON.stringify(queue).slice(0, 400)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    return queue;
  };
}

const changeIds = (events: any[]) =>
  events.filter((e) => e.type === 'changes').flatMap((e) => e.changes.map((c: any) => c.id));

describe.each(cases)('REST face on $name', ({ create }) => {
  it('answers health without a token', async () => {
    await using s = await startServer(await create());
    const res = await api(s.base, '/sync/health');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: true, store: s.engine.store.kind });
  });

  it('push applies a batch once and answers a retry with duplicates', async () => {
    await using s = await startServer(await create());
    const token = await s.token('alice', 'acme');
    const body = { clientId: 'dev-1', changes: taskChanges(1, 3) };
    const first = await api(s.base, '/sync/push', { token, body });
    expect(first.status).toBe(200);
    expect(first.json.results.map((r: any) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
    expect(typeof first.json.serverTime).toBe('string');
    const retry = await api(s.base, '/sync/push', { token, body });
    expect(retry.status).toBe(200);
    expect(retry.json.results.map((r: any) => r.status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    const pulled = await api(s.base, '/sync/pull', { token });
    expect(pulled.json.changes).toHaveLength(3);
  });

  it('pull pages with limit until hasMore is false, each document once', async () => {
    await using s = await startServer(await create());
    const token = await s.token('alice', 'acme');
    await pushTasks(s, token, 'dev-1', 1, 25, 1);
    await api(s.base, '/sync/push', {
      token,
      body: {
        clientId: 'dev-2',
        changes: [
          { mutationId: 1, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'x' } },
        ],
      },
    });
    const seen: string[] = [];
    let since = '';
    let pages = 0;
    for (;;) {
      const res = await api(
        s.base,
        `/sync/pull?since=${encodeURIComponent(since)}&limit=10&collections=tasks`,
        { token },
      );
      expect(res.status).toBe(200);
      expect(res.json.changes.length).toBeLessThanOrEqual(10);
      seen.push(...res.json.changes.map((c: any) => c.id));
      since = res.json.checkpoint;
      pages++;
      if (!res.json.hasMore) break;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(25);
    expect(seen).toHaveLength(25);
    // The filtered checkpoint moved past the notes commit; an unfiltered pull has it.
    const rest = await api(s.base, `/sync/pull?since=${encodeURIComponent(since)}`, { token });
    expect(rest.json).toMatchObject({ changes: [], hasMore: false });
    const all = await api(s.base, '/sync/pull?collections=notes,tasks', { token });
    expect(all.json.changes.map((c: any) => c.id)).toContain('n1');
  });

  it('full streams NDJSON pages, gzip when asked, checkpoint constant, cursor absent on the last page', async () => {
    await using s = await startServer(await create());
    const token = await s.token('alice', 'acme');
    await pushTasks(s, token, 'dev-1', 1, 25);
    await api(s.base, '/sync/push', {
      token,
      body: {
        clientId: 'dev-1',
        changes: [{ mutationId: 100, collection: 'tasks', id: 't3', op: 'delete' }],
      },
    });
    for (const gzip of [true, false]) {
      const docs: any[] = [];
      const checkpoints = new Set<string>();
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await rawGet(
          `${s.base}/sync/full?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          {
            authorization: `Bearer ${token}`,
            ...(gzip ? { 'accept-encoding': 'gzip, deflate' } : {}),
          },
        );
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
        expect(res.headers['content-encoding']).toBe(gzip ? 'gzip' : undefined);
        const text = (gzip ? gunzipSync(res.body) : res.body).toString('utf8');
        const lines = text.split('\n').filter(Boolean);
        expect(lines.length).toBeLessThanOrEqual(10);
        docs.push(...lines.map((l) => JSON.parse(l)));
        checkpoints.add(String(res.headers['x-sync-checkpoint']));
        cursor = res.headers['x-sync-cursor'] as string | undefined;
        pages++;
        if (pages === 1) await pushTasks(s, token, `dev-during-${gzip}`, 500, 1); // a write during the export
      } while (cursor);
      expect(pages).toBe(3);
      expect(checkpoints.size).toBe(1);
      const ids = docs.map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(docs.find((d) => d.id === 't3')).toMatchObject({
        collection: 'tasks',
        deleted: true,
        data: null,
      });
      expect(docs.find((d) => d.id === 't1')).toMatchObject({
        collection: 'tasks',
        deleted: false,
        data: { title: 'task 1', done: false },
      });
      // Pulling from the export's checkpoint brings what was written during it.
      const after = await api(
        s.base,
        `/sync/pull?since=${encodeURIComponent([...checkpoints][0]!)}`,
        { token },
      );
      expect(after.json.changes.map((c: any) => c.id)).toContain('t500');
    }
  });

  it('SSE catches up, goes live, and resumes from Last-Event-ID without gaps or duplicates', async () => {
    await using s = await startServer(await create());
    const token = await s.token('alice', 'acme');
    await pushTasks(s, token, 'dev-1', 1, 3, 1);
    const abort = new AbortController();
    const { res, events } = await openSse(
      `${s.base}/sync/stream`,
      { authorization: `Bearer ${token}` },
      abort.signal,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const caught = await collect(events, (all) => changeIds(all.map((e) => e.data)).length >= 3);
    expect(changeIds(caught.map((e) => e.data))).toEqual(['t1', 't2', 't3']);
    await pushTasks(s, token, 'dev-1', 4, 2, 1);
    const live = await collect(events, (all) => changeIds(all.map((e) => e.data)).length >= 2);
    expect(changeIds(live.map((e) => e.data))).toEqual(['t4', 't5']);
    const last = live.filter((e) => e.event === 'changes').at(-1)!;
    expect(last.id).toBe(last.data.checkpoint);
    abort.abort();

    await pushTasks(s, token, 'dev-1', 6, 2, 1); // while disconnected
    for (const how of ['header', 'query'] as const) {
      const again = new AbortController();
      const url =
        how === 'header'
          ? `${s.base}/sync/stream`
          : `${s.base}/sync/stream?lastEventId=${encodeURIComponent(last.id!)}`;
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (how === 'header') headers['last-event-id'] = last.id!;
      const resumed = await openSse(url, headers, again.signal);
      const got = await collect(
        resumed.events,
        (all) => changeIds(all.map((e) => e.data)).length >= 2,
      );
      expect(changeIds(got.map((e) => e.data))).toEqual(['t6', 't7']);
      again.abort();
    }
  });

  it('raw WebSocket: subscribe frame with token, then live events; token also accepted as ?token=', async () => {
    await using s = await startServer(await create());
    const token = await s.token('alice', 'acme');
    await pushTasks(s, token, 'dev-1', 1, 2, 1);
    const wsUrl = s.base.replace('http', 'ws');
    const a = new WebSocket(`${wsUrl}/sync/stream`);
    const untilA = wsMessages(a);
    await new Promise((r) => a.once('open', r));
    a.send(JSON.stringify({ type: 'subscribe', since: null, collections: ['tasks'], token }));
    expect(changeIds(await untilA((q) => changeIds(q).length >= 2))).toEqual(['t1', 't2']);
    const b = new WebSocket(`${wsUrl}/sync/stream?token=${encodeURIComponent(token)}`);
    const untilB = wsMessages(b);
    await new Promise((r) => b.once('open', r));
    const checkpoint = (await api(s.base, '/sync/pull', { token })).json.checkpoint;
    b.send(JSON.stringify({ type: 'subscribe', since: checkpoint })); // from the checkpoint: t3 arrives whether b is live yet or not
    await pushTasks(s, token, 'dev-1', 3, 1);
    expect(changeIds(await untilA((q) => changeIds(q).length >= 3))).toEqual(['t1', 't2', 't3']);
    expect(changeIds(await untilB((q) => changeIds(q).length >= 1))).toEqual(['t3']);
    a.close();
    b.close();
  });

  it('keeps tenants apart on every endpoint and stream', async () => {
    await using s = await startServer(await create());
    const acme = await s.token('alice', 'acme');
    const globex = await s.token('bob', 'globex');
    const abort = new AbortController();
    const globexStream = await openSse(
      `${s.base}/sync/stream`,
      { authorization: `Bearer ${globex}` },
      abort.signal,
    );
    await pushTasks(s, acme, 'dev-1', 1, 3);
    // Same client id and document ids in another tenant: applied there, not duplicates.
    const other = await api(s.base, '/sync/push', {
      token: globex,
      body: { clientId: 'dev-1', changes: taskChanges(1, 1, 'g') },
    });
    expect(other.json.results[0].status).toBe('accepted');
    const pulled = await api(s.base, '/sync/pull', { token: globex });
    expect(pulled.json.changes.map((c: any) => c.id)).toEqual(['g1']);
    const full = await api(s.base, '/sync/full', { token: globex });
    expect(
      full.text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).id),
    ).toEqual(['g1']);
    // A fence: a second globex write after acme's; once it arrived, anything acme leaked would have too.
    await api(s.base, '/sync/push', {
      token: globex,
      body: { clientId: 'dev-1', changes: taskChanges(2, 1, 'g') },
    });
    const got = await collect(globexStream.events, (all) =>
      changeIds(all.map((e) => e.data)).includes('g2'),
    );
    expect(changeIds(got.map((e) => e.data))).toEqual(['g1', 'g2']);
    abort.abort();
  });
});
