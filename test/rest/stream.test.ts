/** Stream lifecycle on SSE and the raw WebSocket: heartbeats when idle, resync_required then close, cleanup on disconnect. */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { EngineEvent } from '../../server/engine/types.js';
import { api, startServer, storeCases, taskChanges } from './harness.js';
import { collect, openSse } from './sse-client.js';

for (const storeCase of await storeCases()) {
  describe(`on ${storeCase.name}`, () => {
    describe('stream lifecycle', () => {
      it('sends heartbeats on an idle SSE stream and an idle WebSocket', async () => {
        await using s = await startServer(await storeCase.create(), {
          engine: { stream: { heartbeatMs: 150 } },
        });
        const token = await s.token('hb', 'hb');
        const abort = new AbortController();
        const { events } = await openSse(
          `${s.base}/sync/stream`,
          { authorization: `Bearer ${token}` },
          abort.signal,
        );
        const got = await collect(events, (all) => all.some((e) => e.event === 'heartbeat'), 5000);
        const beat = got.find((e) => e.event === 'heartbeat')!;
        expect(beat.id).toBeUndefined();
        expect(beat.data.type).toBe('heartbeat');
        abort.abort();

        const ws = new WebSocket(`${s.base.replace('http', 'ws')}/sync/stream?token=${token}`);
        const frames: any[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
        await new Promise((r) => ws.once('open', r));
        ws.send(JSON.stringify({ type: 'subscribe' }));
        await expect
          .poll(() => frames.some((f) => f.type === 'heartbeat'), { timeout: 15_000 })
          .toBe(true);
        ws.close();
      });

      it('fans one commit out to many WebSocket and SSE subscribers as the same text frame; a filtered one gets its own', async () => {
        await using s = await startServer(await storeCase.create());
        const token = await s.token('fan', 'fan');
        const wsUrl = `${s.base.replace('http', 'ws')}/sync/stream?token=${token}`;
        const open = async (collections?: string[]) => {
          const ws = new WebSocket(wsUrl);
          const frames: Array<{ text: string; binary: boolean }> = [];
          ws.on('message', (d, isBinary) => frames.push({ text: d.toString(), binary: isBinary }));
          await new Promise((r) => ws.once('open', r));
          ws.send(JSON.stringify({ type: 'subscribe', ...(collections ? { collections } : {}) }));
          return { ws, frames };
        };
        const all = await Promise.all([open(), open(), open()]);
        const notesOnly = await open(['notes']);
        const abort = new AbortController();
        const sse = await Promise.all(
          [0, 1].map(() =>
            openSse(`${s.base}/sync/stream`, { authorization: `Bearer ${token}` }, abort.signal),
          ),
        );
        const sseEvents = sse.map(({ events }) =>
          collect(events, (got) => got.some((e) => e.event === 'changes'), 5000),
        );
        // Every subscriber is live (four WebSockets, two SSE streams) before the commit.
        await expect.poll(() => s.engine.feedStatus().subscribers, { timeout: 15_000 }).toBe(6);
        const changes = [
          ...taskChanges(1, 1),
          { mutationId: 2, collection: 'notes', id: 'n1', op: 'upsert', data: { body: 'hi' } },
        ];
        expect(
          (await api(s.base, '/sync/push', { token, body: { clientId: 'fan', changes } })).status,
        ).toBe(200);
        for (const sub of [...all, notesOnly])
          await expect.poll(() => sub.frames.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
        const frames = all.map((sub) => sub.frames[0]!);
        expect(frames.every((f) => !f.binary)).toBe(true);
        expect(new Set(frames.map((f) => f.text)).size).toBe(1);
        const event = JSON.parse(frames[0]!.text);
        expect(event.type).toBe('changes');
        expect(event.changes.map((c: any) => `${c.collection}/${c.id}`)).toEqual([
          'tasks/t1',
          'notes/n1',
        ]);
        const filtered = JSON.parse(notesOnly.frames[0]!.text);
        expect(notesOnly.frames[0]!.binary).toBe(false);
        expect(filtered.checkpoint).toBe(event.checkpoint);
        expect(filtered.changes.map((c: any) => c.id)).toEqual(['n1']);
        for (const got of await Promise.all(sseEvents)) {
          const changesEvent = got.find((e) => e.event === 'changes')!;
          expect(changesEvent.id).toBe(event.checkpoint);
          expect(changesEvent.data).toEqual(event);
        }
        abort.abort();
        for (const sub of [...all, notesOnly]) sub.ws.close();
      });

      it('answers resync_required then closes when history was pruned (and pull answers 409)', async () => {
        await using s = await startServer(await storeCase.create());
        const token = await s.token('rs', 'rs');
        await api(s.base, '/sync/push', {
          token,
          body: { clientId: 'd', changes: taskChanges(1, 2) },
        });
        await api(s.base, '/sync/push', {
          token,
          body: { clientId: 'd', changes: taskChanges(3, 1) },
        });
        await s.engine.prune({ before: new Date(Date.now() + 60_000) });
        const pulled = await api(s.base, '/sync/pull', { token });
        expect(pulled.status).toBe(409);
        expect(pulled.json.error.code).toBe('RESYNC_REQUIRED');

        const abort = new AbortController();
        const { events } = await openSse(
          `${s.base}/sync/stream`,
          { authorization: `Bearer ${token}` },
          abort.signal,
        );
        const got = await collect(
          events,
          (all) => all.some((e) => e.event === 'resync_required'),
          5000,
        );
        expect(got.at(-1)!.data.type).toBe('resync_required');
        expect((await events.next()).done).toBe(true); // the server ended the stream

        const ws = new WebSocket(`${s.base.replace('http', 'ws')}/sync/stream`);
        const frames: any[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
        await new Promise((r) => ws.once('open', r));
        ws.send(JSON.stringify({ type: 'subscribe', token }));
        const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
        expect(code).toBe(1000);
        expect(frames.at(-1).type).toBe('resync_required');
      });

      it('stops the engine stream when the SSE client or the WebSocket goes away', async () => {
        const seen: EngineEvent['type'][] = [];
        await using s = await startServer(await storeCase.create(), {
          engine: { onEvent: (e) => seen.push(e.type) },
        });
        const token = await s.token('dc', 'dc');
        const abort = new AbortController();
        const { events } = await openSse(
          `${s.base}/sync/stream`,
          { authorization: `Bearer ${token}` },
          abort.signal,
        );
        void events.next();
        await expect
          .poll(() => seen.filter((t) => t === 'stream_open').length, { timeout: 15_000 })
          .toBe(1);
        abort.abort();
        await expect
          .poll(() => seen.filter((t) => t === 'stream_close').length, { timeout: 15_000 })
          .toBe(1);

        const ws = new WebSocket(`${s.base.replace('http', 'ws')}/sync/stream`);
        await new Promise((r) => ws.once('open', r));
        ws.send(JSON.stringify({ type: 'subscribe', token }));
        await expect
          .poll(() => seen.filter((t) => t === 'stream_open').length, { timeout: 15_000 })
          .toBe(2);
        ws.terminate();
        await expect
          .poll(() => seen.filter((t) => t === 'stream_close').length, { timeout: 15_000 })
          .toBe(2);
      });
    });
  });
}
