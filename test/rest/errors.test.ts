/** Every malformed request gets the protocol's status and error body, never a 5xx; unexpected failures are 500 without internals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, startServer, storeCases, taskChanges, type TestServer } from './harness.js';
import { rawPost } from './raw-http.js';

const MAX_BODY = 64 * 1024;
for (const storeCase of await storeCases()) {
  describe(`on ${storeCase.name}`, () => {
    let s: TestServer;
    let token: string;

    beforeAll(async () => {
      s = await startServer(await storeCase.create(), {
        engine: { limits: { maxBodyBytes: MAX_BODY, maxChangesPerPush: 50 } },
      });
      token = await s.token('alice', 'acme');
    });
    afterAll(async () => s?.close());

    type Case = {
      name: string;
      method?: string;
      path: string;
      body?: unknown;
      headers?: Record<string, string>;
      auth?: 'none' | 'bad';
      status: number;
      code: string;
      /** The first issue's path, when the message must name a field. */
      issue?: string;
    };

    const push = (body: unknown, headers?: Record<string, string>) => ({
      method: 'POST',
      path: '/sync/push',
      body,
      headers,
    });

    const CASES: Case[] = [
      {
        name: 'malformed JSON',
        ...push('{"clientId": "d1", "changes": ['),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        name: 'text/plain body',
        ...push(JSON.stringify({ clientId: 'd', changes: [] }), { 'content-type': 'text/plain' }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'form body',
        ...push('a=b', { 'content-type': 'application/x-www-form-urlencoded' }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      { name: 'empty body', ...push(''), status: 400, code: 'BAD_REQUEST' },
      { name: 'array body', ...push([]), status: 400, code: 'BAD_REQUEST' },
      {
        name: 'missing clientId',
        ...push({ changes: [] }),
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'clientId',
      },
      {
        name: 'negative mutationId',
        ...push({ clientId: 'd', changes: [{ ...taskChanges(1, 1)[0], mutationId: -1 }] }),
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'changes.0.mutationId',
      },
      {
        name: 'unknown op',
        ...push({ clientId: 'd', changes: [{ ...taskChanges(1, 1)[0], op: 'merge' }] }),
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'changes.0.op',
      },
      {
        name: 'unknown collection',
        ...push({ clientId: 'd', changes: [{ ...taskChanges(1, 1)[0], collection: 'users' }] }),
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        name: 'bad baseVersion',
        ...push({
          clientId: 'd',
          changes: [{ ...taskChanges(1, 1)[0], baseVersion: 'yesterday' }],
        }),
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'changes.0.baseVersion',
      },
      {
        name: 'query parameter on push',
        method: 'POST',
        path: '/sync/push?x=1',
        body: { clientId: 'd', changes: [] },
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'x',
      },
      {
        name: 'limit=abc',
        path: '/sync/pull?limit=abc',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'limit',
      },
      {
        name: 'limit=0',
        path: '/sync/pull?limit=0',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'limit',
      },
      {
        name: 'limit=100000',
        path: '/sync/pull?limit=100000',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'limit',
      },
      {
        name: 'limit=-5',
        path: '/sync/pull?limit=-5',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'limit',
      },
      {
        name: 'limit=1.5',
        path: '/sync/pull?limit=1.5',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'limit',
      },
      {
        name: 'limit given twice',
        path: '/sync/pull?limit=1&limit=2',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'limit',
      },
      {
        name: 'unknown query parameter',
        path: '/sync/pull?sinse=x',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'sinse',
      },
      {
        name: 'garbage since',
        path: '/sync/pull?since=not-a-checkpoint',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'since',
      },
      {
        name: 'invalid collection name',
        path: '/sync/pull?collections=tasks,1bad',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'collections',
      },
      {
        name: 'unknown collection in pull',
        path: '/sync/pull?collections=users',
        status: 400,
        code: 'BAD_REQUEST',
      },
      {
        name: 'full limit=20000',
        path: '/sync/full?limit=20000',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'limit',
      },
      {
        name: 'garbage cursor',
        path: '/sync/full?cursor=%%%garbage',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'cursor',
      },
      {
        name: 'forged cursor',
        path: '/sync/full?cursor=eyJ4IjoxfQ',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'cursor',
      },
      {
        name: 'stream with garbage since',
        path: '/sync/stream?since=zzz',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'since',
      },
      {
        name: 'stream with garbage Last-Event-ID',
        path: '/sync/stream',
        headers: { 'last-event-id': 'nope' },
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'lastEventId',
      },
      {
        name: 'stream with unknown collection',
        path: '/sync/stream?collections=users',
        status: 400,
        code: 'BAD_REQUEST',
        issue: 'collections.0',
      },
      { name: 'no token', path: '/sync/pull', auth: 'none', status: 401, code: 'UNAUTHORIZED' },
      { name: 'forged token', path: '/sync/pull', auth: 'bad', status: 401, code: 'UNAUTHORIZED' },
      {
        name: 'no token on stream',
        path: '/sync/stream',
        auth: 'none',
        status: 401,
        code: 'UNAUTHORIZED',
      },
      { name: 'unknown path', path: '/sync/nothing', status: 404, code: 'NOT_FOUND' },
      { name: 'outside the API', path: '/', status: 404, code: 'NOT_FOUND' },
      { name: 'GET on push', path: '/sync/push', status: 405, code: 'METHOD_NOT_ALLOWED' },
      {
        name: 'DELETE on pull',
        method: 'DELETE',
        path: '/sync/pull',
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
      },
      {
        name: 'too many changes',
        ...push({ clientId: 'd', changes: taskChanges(1, 51) }),
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
    ];

    describe('malformed requests', () => {
      it.each(CASES)('$name → $status $code', async (c) => {
        const auth =
          c.auth === 'none'
            ? undefined
            : c.auth === 'bad'
              ? 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'
              : token;
        const res = await api(s.base, c.path, {
          method: c.method,
          body: c.body,
          headers: c.headers,
          token: auth,
        });
        expect(res.status).toBe(c.status);
        expect(res.status).toBeLessThan(500);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(res.json).toMatchObject({
          error: { code: c.code, message: expect.any(String), issues: expect.any(Array) },
        });
        if (c.issue !== undefined) {
          expect(res.json.error.issues[0]?.path).toBe(c.issue);
          expect(res.json.error.message).toContain(c.issue.split('.')[0]);
        }
      });

      it('a checkpoint from another store epoch needs a resync (409 RESYNC_REQUIRED)', async () => {
        const res = await api(s.base, '/sync/pull?since=c1.otherepoch.5', { token });
        expect(res.status).toBe(409);
        expect(res.json.error.code).toBe('RESYNC_REQUIRED');
      });

      it('refuses an oversized Content-Length with 413 before reading the body', async () => {
        const res = await rawPost(
          `${s.base}/sync/push`,
          { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          Buffer.from('{"clientId":'),
          MAX_BODY * 100,
        );
        expect(res.status).toBe(413);
        expect(JSON.parse(res.body.toString()).error.code).toBe('PAYLOAD_TOO_LARGE');
      });

      it('cuts an endless chunked body with 413 once the limit is passed', async () => {
        const res = await rawPost(
          `${s.base}/sync/push`,
          { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          Buffer.alloc(16 * 1024, 0x20),
        );
        expect(res.status).toBe(413);
        expect(JSON.parse(res.body.toString()).error.code).toBe('PAYLOAD_TOO_LARGE');
      });

      it('answers CORS preflight when enabled', async () => {
        await using c = await startServer(await storeCase.create(), { rest: { cors: true } });
        const res = await fetch(`${c.base}/sync/push`, {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
        });
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
        const pull = await fetch(`${c.base}/sync/full`, {
          headers: {
            origin: 'https://app.example',
            authorization: `Bearer ${await c.token('a', 'b')}`,
          },
        });
        expect(pull.headers.get('access-control-expose-headers')).toMatch(/X-Sync-Cursor/);
      });

      it('turns an unexpected engine failure into 500 with the error body and no internals', async () => {
        const original = s.engine.pull;
        s.engine.pull = async () => {
          throw new Error('connection string postgres://secret@db');
        };
        try {
          const res = await api(s.base, '/sync/pull', { token });
          expect(res.status).toBe(500);
          const requestId = res.json.error.requestId as string;
          expect(requestId).toMatch(/^[0-9a-f]{16}$/);
          expect(res.headers.get('x-request-id')).toBe(requestId);
          expect(res.json).toEqual({
            error: {
              code: 'INTERNAL',
              message: `internal server error (request id ${requestId})`,
              issues: [],
              requestId,
            },
          });
          expect(res.text).not.toContain('secret');
        } finally {
          s.engine.pull = original;
        }
      });
    });

    describe('raw WebSocket refusals', () => {
      const cases: {
        name: string;
        frame: string | ((t: string) => string);
        close: number;
        code: string;
        query?: string;
      }[] = [
        { name: 'malformed JSON frame', frame: '{nope', close: 4400, code: 'BAD_REQUEST' },
        {
          name: 'wrong frame type',
          frame: (t) => JSON.stringify({ type: 'hello', token: t }),
          close: 4400,
          code: 'BAD_REQUEST',
        },
        {
          name: 'bad collection',
          frame: (t) => JSON.stringify({ type: 'subscribe', token: t, collections: ['users'] }),
          close: 4400,
          code: 'BAD_REQUEST',
        },
        {
          name: 'garbage since',
          frame: (t) => JSON.stringify({ type: 'subscribe', token: t, since: 'x' }),
          close: 4400,
          code: 'BAD_REQUEST',
        },
        {
          name: 'no token',
          frame: JSON.stringify({ type: 'subscribe' }),
          close: 4401,
          code: 'UNAUTHORIZED',
        },
        {
          name: 'forged token in query',
          frame: JSON.stringify({ type: 'subscribe' }),
          close: 4401,
          code: 'UNAUTHORIZED',
          query: '?token=forged',
        },
      ];
      it.each(cases)('$name → error frame and close $close', async (c) => {
        const ws = new WebSocket(`${s.base.replace('http', 'ws')}/sync/stream${c.query ?? ''}`);
        const frames: any[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
        await new Promise((r) => ws.once('open', r));
        ws.send(typeof c.frame === 'string' ? c.frame : c.frame(token));
        const closeCode = await new Promise<number>((r) => ws.once('close', (code) => r(code)));
        expect(closeCode).toBe(c.close);
        expect(frames[0]).toMatchObject({
          type: 'error',
          error: { code: c.code, message: expect.any(String), issues: expect.any(Array) },
        });
      });
    });
  });
}
