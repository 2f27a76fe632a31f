/**
 * Issue 15 items 4–6: no request costs more than its size allows. A superjson input whose shared
 * references make a DAG (2^depth paths from a few KB) is refused by the engine's own walk; tRPC
 * batches are bounded in calls and in the bytes one request assembles; WebSocket frames on every
 * face are bounded before any parse, and sockets that do not authenticate in time are closed.
 * Run on PGlite, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTRPC } from '@trpc/server';
import superjson from 'superjson';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../shared/protocol.js';
import { SyncError } from '../../shared/errors.js';
import { signDevToken } from '../../server/auth/jwt.js';
import { HELP, readConfig } from '../../server/cli/config.js';
import { createSyncHttpServer, type SyncHttpServer } from '../../server/http/server.js';
import { createRestWebSocketServer } from '../../server/rest/websocket.js';
import { createFastapiCompatWebSocketServer } from '../../server/compat/fastapi-offline-sync/websocket.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import { createSyncRouter } from '../../server/trpc/router.js';
import { responseBudget } from '../../server/trpc/response-budget.js';
import { batchTooLarge } from '../../server/http/request-bounds.js';
import { syncErrorFormatter } from '../../server/trpc/errors.js';
import { listeningPort, spawnCli, cliRefusal } from '../cli-process.js';
import { throwawayPostgresStore } from '../rest/harness.js';
import {
  rest,
  startHostileServer,
  trpc,
  trpcError,
  type Answer,
  type HostileServer,
} from './harness.js';

const COMPAT = '/compat/fastapi-offline-sync';
const A: Actor = { userId: 'a1', scopeId: 'tenant-a' };

const stores: { name: string; create: () => Promise<Store> }[] = [
  { name: 'pglite', create: async () => pgliteStore() },
  ...(process.env.TEST_DATABASE_URL
    ? [
        {
          name: 'postgres',
          create: async () => throwawayPostgresStore(process.env.TEST_DATABASE_URL!, 'cost'),
        },
      ]
    : []),
];

/**
 * A superjson push payload whose `changes.0.data.meta` holds `depth` levels of `{ a: X, b: X }`
 * (`b` the same object as `a` at every level, by `referentialEqualities`): a few KB on the wire,
 * 2^depth paths once deserialized.
 */
export function dagPush(
  depth: number,
  mutationId = 1,
): { json: unknown; meta: { referentialEqualities: Record<string, string[]> } } {
  const base = 'changes.0.data.meta';
  let inner: Record<string, unknown> = { a: { leaf: 1 }, b: null };
  const equalities: Record<string, string[]> = {};
  for (let k = depth - 1; k >= 0; k--) {
    const at = base + '.a'.repeat(k);
    equalities[`${at}.a`] = [`${at}.b`];
    if (k > 0) inner = { a: inner, b: null };
  }
  const json = {
    clientId: 'dag-client',
    changes: [
      { mutationId, collection: 'free', id: `dag-${depth}`, op: 'upsert', data: { meta: inner } },
    ],
  };
  return { json, meta: { referentialEqualities: equalities } };
}

/** The same DAG built in memory (what plain superjson hands the engine). */
function dagValue(depth: number): unknown {
  let node: Record<string, unknown> = { leaf: 1 };
  for (let k = 0; k < depth; k++) node = { a: node, b: node };
  return {
    clientId: 'dag-client',
    changes: [
      { mutationId: 1, collection: 'free', id: 'dag-engine', op: 'upsert', data: { meta: node } },
    ],
  };
}

const issuePaths = (a: Answer): string[] =>
  (
    (a.json?.error?.json?.data?.sync?.issues ?? a.json?.error?.issues ?? []) as { path: string }[]
  ).map((i) => i.path);

/** POSTs a raw superjson body to `sync.push` on `base`. */
async function pushRaw(base: string, body: unknown, token: string): Promise<Answer> {
  return trpc(base, 'push', null, token, JSON.stringify(body));
}

/** A GET batch of `calls` × `procedure` on `/trpc`, each with `input` (superjson-wrapped). */
async function batch(
  url: string,
  procedure: string,
  calls: number,
  token: string,
  input?: unknown,
): Promise<Answer> {
  const paths = Array.from({ length: calls }, () => `sync.${procedure}`).join(',');
  const inputs: Record<number, unknown> = {};
  if (input !== undefined) for (let i = 0; i < calls; i++) inputs[i] = { json: input };
  const res = await fetch(
    `${url}/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * Upgrades a raw TCP socket on `path`, then sends only the header of one masked text frame that
 * declares `declared` payload bytes (plus 16 of them): a server that bounds frames before buffering
 * closes with 1009 at once; one that waits for the payload would never answer. Resolves with the
 * close code the server sent (null: closed without a close frame).
 */
function oversizeFrame(port: number, path: string, declared: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let upgraded = false;
    let buffer = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(null));
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101'))
          return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        const header = Buffer.alloc(14);
        header[0] = 0x81; // FIN + text
        header[1] = 0x80 | 127; // masked, 64-bit length
        header.writeBigUInt64BE(BigInt(declared), 2);
        header.writeUInt32BE(0x01020304, 10); // mask key
        socket.write(Buffer.concat([header, Buffer.alloc(16, 0x20)]));
      }
      // A server frame: 0x88 = close; its payload starts with the 2-byte code.
      if (buffer.length >= 4 && buffer[0] === 0x88) {
        resolve(buffer.readUInt16BE(2));
        socket.destroy();
      }
    });
  });
}

/** Opens a WebSocket and resolves with its close code when the server closes it. */
function closeOf(
  url: string,
  onOpen?: (ws: WebSocket) => void,
): { ws: WebSocket; closed: Promise<number> } {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  if (onOpen) ws.on('open', () => onOpen(ws));
  return { ws, closed: new Promise((resolve) => ws.on('close', (code) => resolve(code))) };
}

/** Sends one tRPC WebSocket request frame on an open socket and resolves with the answer to `id`. */
function wsCall(ws: WebSocket, frame: unknown, id: number): Promise<any> {
  return new Promise((resolve) => {
    const onMessage = (d: WebSocket.RawData) => {
      const msg = JSON.parse(d.toString());
      if (msg.id === id) {
        ws.off('message', onMessage);
        resolve(msg);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(frame));
  });
}

for (const storeCase of stores) {
  describe(`request cost on ${storeCase.name}`, () => {
    let s: HostileServer;
    let plain: SyncHttpServer;
    let plainUrl: string;
    let before: [number, number];

    beforeAll(async () => {
      s = await startHostileServer(
        await storeCase.create(),
        { limits: { maxBodyBytes: 1024 * 1024 } },
        {
          maxBatchCalls: 50,
          maxResponseBytes: 64 * 1024,
          wsMaxPayloadBytes: 32 * 1024,
          wsAuthTimeoutMs: 300,
        },
      );
      // 40 documents of about 2 KB for the full-page budget, then the baseline.
      const changes = Array.from({ length: 40 }, (_, i) => ({
        mutationId: i + 1,
        collection: 'tasks',
        id: `big-${i}`,
        op: 'upsert',
        data: { title: 'x'.repeat(2000) },
      }));
      expect(
        (await rest(s.url, '/sync/push', { token: s.tokenA, body: { clientId: 'seed', changes } }))
          .status,
      ).toBe(200);
      expect(
        (
          await rest(s.url, '/sync/push', {
            token: s.tokenB,
            body: { clientId: 'seed', changes: changes.slice(0, 1) },
          })
        ).status,
      ).toBe(200);
      // An app with its own initTRPC and plain superjson (not syncTransformer) over the same engine.
      const t = initTRPC
        .context<{ actor: Actor | null }>()
        .create({ transformer: superjson, errorFormatter: syncErrorFormatter });
      const router = t.router({
        sync: createSyncRouter({ engine: s.engine, procedure: t.procedure }),
      });
      plain = createSyncHttpServer({
        engine: s.engine,
        router,
        authenticate: (token) => (token === s.tokenA ? A : null),
      });
      plainUrl = (await plain.listen(0, '127.0.0.1')).url;
      before = await s.heads();
    });
    afterAll(async () => {
      await plain?.close();
      await s?.close();
    });

    describe('item 4: shared references (a DAG) are refused where the engine checks shapes', () => {
      it('tRPC (syncTransformer): a small DAG push is 400 naming the path, nothing written', async () => {
        const a = await pushRaw(s.url, dagPush(3), s.tokenA);
        expect(a.status, a.text.slice(0, 300)).toBe(400);
        expect(trpcError(a).sync?.code).toBe('BAD_REQUEST');
        expect(
          issuePaths(a).some((p) => p.startsWith('changes.0.data.meta')),
          JSON.stringify(issuePaths(a)),
        ).toBe(true);
        expect(await s.heads()).toEqual(before);
      });
      it('tRPC (syncTransformer): a 2^20-path DAG push of a few KB is 400, nothing written', async () => {
        const body = dagPush(20);
        expect(JSON.stringify(body).length).toBeLessThan(4000);
        const a = await pushRaw(s.url, body, s.tokenA);
        expect(a.status, a.text.slice(0, 300)).toBe(400);
        expect(a.json.error.json.message).toMatch(/shared|same object/);
        expect(await s.heads()).toEqual(before);
      });
      it('tRPC with a plain-superjson app router: the engine refuses the DAG, 400 naming the path', async () => {
        for (const depth of [3, 20]) {
          const a = await pushRaw(plainUrl, dagPush(depth), s.tokenA);
          expect(a.status, a.text.slice(0, 300)).toBe(400);
          expect(trpcError(a).sync?.code).toBe('BAD_REQUEST');
          expect(
            issuePaths(a).some((p) => p.startsWith('changes.0.data.meta')),
            JSON.stringify(issuePaths(a)),
          ).toBe(true);
        }
        expect(await s.heads()).toEqual(before);
      });
      it('engine.push with a shared object in its input is BAD_REQUEST naming the path, nothing written', async () => {
        const error = await s.engine.push(A, dagValue(18)).then(
          () => null,
          (e: unknown) => e,
        );
        expect(SyncError.is(error), String(error)).toBe(true);
        expect((error as SyncError).code).toBe('BAD_REQUEST');
        expect((error as SyncError).issues[0]?.path).toMatch(/^changes\.0\.data\.meta\.(a|b)/);
        // The same object in two changes is shared too.
        const shared = { title: 'twice' };
        const twice = {
          clientId: 'c',
          changes: [
            { mutationId: 1, collection: 'tasks', id: 's1', op: 'upsert', data: shared },
            { mutationId: 2, collection: 'tasks', id: 's2', op: 'upsert', data: shared },
          ],
        };
        const error2 = await s.engine.push(A, twice).then(
          () => null,
          (e: unknown) => e,
        );
        expect((error2 as SyncError).code).toBe('BAD_REQUEST');
        expect((error2 as SyncError).issues[0]?.path).toMatch(/^changes\.[01]\.data$/);
        expect(await s.heads()).toEqual(before);
      });
    });

    describe('item 5: tRPC batches are bounded', () => {
      it('a 120-call batch is refused with 400 naming maxBatchCalls, before any call runs', async () => {
        const a = await batch(s.url, 'pull', 120, s.tokenA);
        expect(a.status, a.text.slice(0, 300)).toBe(400);
        expect(a.text).toContain('maxBatchCalls');
      });
      it('40 full calls in one batch: answers stop at maxResponseBytes, the rest are 413 naming it', async () => {
        const a = await batch(s.url, 'full', 40, s.tokenA, { limit: 10 });
        expect(Array.isArray(a.json), a.text.slice(0, 300)).toBe(true);
        const ok = a.json.filter((r: any) => r.result);
        const refused = a.json.filter((r: any) => r.error);
        expect(ok.length).toBeGreaterThanOrEqual(1);
        expect(refused.length).toBeGreaterThan(0);
        expect(ok.length + refused.length).toBe(40);
        for (const r of refused) {
          expect(r.error.json.data.httpStatus).toBe(413);
          expect(r.error.json.message).toContain('maxResponseBytes');
        }
        // Each page is about 20 KB: the answer holds at most the budget plus one page and the refusals.
        expect(a.text.length).toBeLessThan(64 * 1024 + 25_000 + 40 * 1000);
        expect(s.unexpected).toEqual([]);
      });
      it('over the tRPC WebSocket, a frame batching more than maxBatchCalls messages is refused', async () => {
        const { ws } = closeOf(
          `ws://127.0.0.1:${s.port}/trpc?token=${encodeURIComponent(s.tokenA)}`,
        );
        await new Promise((resolve) => ws.once('open', resolve));
        const frame = Array.from({ length: 60 }, (_, i) => ({
          id: i + 1,
          method: 'query',
          params: { path: 'sync.pull', input: { json: {} } },
        }));
        const answer = await wsCall(ws, frame, 1);
        ws.terminate();
        expect(
          answer.error?.data?.code ?? answer.error?.json?.data?.code,
          JSON.stringify(answer).slice(0, 300),
        ).toBe('BAD_REQUEST');
      });
    });

    describe('item 6: WebSocket frames are bounded before any parse, unauthenticated sockets closed', () => {
      for (const [face, path] of [
        ['tRPC', '/trpc'],
        ['raw', '/sync/stream'],
        ['compat', `${COMPAT}/sync/stream`],
      ] as const) {
        it(
          `${face}: a frame declaring 95 MiB closes the socket with 1009 before its payload is sent`,
          { timeout: 15_000 },
          async () => {
            expect(await oversizeFrame(s.port, path, 95 * 1024 * 1024)).toBe(1009);
          },
        );
        it(
          `${face}: a frame just over wsMaxPayloadBytes (32 KiB here) closes with 1009`,
          { timeout: 15_000 },
          async () => {
            expect(await oversizeFrame(s.port, path, 48 * 1024)).toBe(1009);
          },
        );
      }
      it(
        'tRPC: an idle socket without a token is closed after wsAuthTimeoutMs; an authenticated one stays',
        { timeout: 15_000 },
        async () => {
          const authed = closeOf(
            `ws://127.0.0.1:${s.port}/trpc?token=${encodeURIComponent(s.tokenA)}`,
          );
          await new Promise((resolve) => authed.ws.once('open', resolve));
          const anonymous = closeOf(`ws://127.0.0.1:${s.port}/trpc`);
          expect(await anonymous.closed).toBe(4401);
          const answer = await wsCall(
            authed.ws,
            { id: 7, method: 'query', params: { path: 'sync.pull', input: { json: {} } } },
            7,
          );
          expect(
            answer.result?.data?.json?.checkpoint,
            JSON.stringify(answer).slice(0, 300),
          ).toBeTypeOf('string');
          authed.ws.terminate();
        },
      );
      it(
        'tRPC: a socket announcing connectionParams that never sends them is closed',
        { timeout: 15_000 },
        async () => {
          expect(await closeOf(`ws://127.0.0.1:${s.port}/trpc?connectionParams=1`).closed).toBe(
            4401,
          );
        },
      );
      it(
        'tRPC: a socket whose connectionParams carry a bad token is closed',
        { timeout: 15_000 },
        async () => {
          const { closed } = closeOf(`ws://127.0.0.1:${s.port}/trpc?connectionParams=1`, (ws) =>
            ws.send(JSON.stringify({ method: 'connectionParams', data: { token: 'not-a-token' } })),
          );
          expect(await closed).toBe(4401);
        },
      );
      it(
        'tRPC: connectionParams with a valid token authenticate the socket',
        { timeout: 15_000 },
        async () => {
          const authed = closeOf(`ws://127.0.0.1:${s.port}/trpc?connectionParams=1`, (ws) =>
            ws.send(JSON.stringify({ method: 'connectionParams', data: { token: s.tokenA } })),
          );
          await new Promise((resolve) => authed.ws.once('open', resolve));
          // Wait past the timeout on a condition: an anonymous socket opened after this one is closed.
          expect(await closeOf(`ws://127.0.0.1:${s.port}/trpc`).closed).toBe(4401);
          const answer = await wsCall(
            authed.ws,
            { id: 3, method: 'query', params: { path: 'sync.pull', input: { json: {} } } },
            3,
          );
          expect(
            answer.result?.data?.json?.checkpoint,
            JSON.stringify(answer).slice(0, 300),
          ).toBeTypeOf('string');
          authed.ws.terminate();
        },
      );
      it(
        'raw WS: an idle socket is closed after wsAuthTimeoutMs (4408)',
        { timeout: 15_000 },
        async () => {
          expect(await closeOf(`ws://127.0.0.1:${s.port}/sync/stream`).closed).toBe(4408);
        },
      );
      it(
        'compat WS: an idle socket is closed after wsAuthTimeoutMs (4408)',
        { timeout: 15_000 },
        async () => {
          expect(await closeOf(`ws://127.0.0.1:${s.port}${COMPAT}/sync/stream`).closed).toBe(4408);
        },
      );
      it('nothing was written and nothing was reported as unexpected', async () => {
        expect(await s.heads()).toEqual(before);
        expect(s.unexpected).toEqual([]);
      });
    });
  });
}

describe.each(stores)(
  'request cost: the defaults of createSyncHttpServer on $name',
  ({ create }) => {
    let s: HostileServer;
    beforeAll(async () => {
      s = await startHostileServer(await create());
    });
    afterAll(() => s?.close());

    it('a 40-call batch is over the default maxBatchCalls (16)', async () => {
      const a = await batch(s.url, 'pull', 40, s.tokenA);
      expect(a.status, a.text.slice(0, 300)).toBe(400);
      expect(a.text).toContain('maxBatchCalls');
      expect((await batch(s.url, 'pull', 16, s.tokenA)).status).toBe(200);
    });
    it(
      'the tRPC WebSocket frame bound is the body limit: a frame declaring 95 MiB closes with 1009',
      { timeout: 15_000 },
      async () => {
        expect(await oversizeFrame(s.port, '/trpc', 95 * 1024 * 1024)).toBe(1009);
      },
    );
    it('bad transport options are refused at start-up with a message naming them', () => {
      const base = { engine: s.engine, authenticate: () => null };
      expect(() => createSyncHttpServer({ ...base, maxBatchCalls: 0 })).toThrow(/maxBatchCalls/);
      expect(() => createSyncHttpServer({ ...base, maxResponseBytes: 1.5 })).toThrow(
        /maxResponseBytes/,
      );
      expect(() => createSyncHttpServer({ ...base, wsMaxPayloadBytes: 10 })).toThrow(
        /wsMaxPayloadBytes/,
      );
      expect(() => createSyncHttpServer({ ...base, wsAuthTimeoutMs: -1 })).toThrow(
        /wsAuthTimeoutMs/,
      );
      expect(() =>
        createRestWebSocketServer({
          engine: s.engine,
          authenticate: () => null,
          maxPayloadBytes: 10,
        }),
      ).toThrow(/maxPayloadBytes/);
      expect(() =>
        createFastapiCompatWebSocketServer({
          engine: s.engine,
          authenticate: () => null,
          subscribeTimeoutMs: 0,
        }),
      ).toThrow(/subscribeTimeoutMs/);
    });
  },
);

describe('request cost: the bounds from the CLI environment', () => {
  const refusal = cliRefusal;
  it('maps SYNC_MAX_BATCH_CALLS, SYNC_MAX_RESPONSE_BYTES, SYNC_WS_MAX_PAYLOAD_BYTES, SYNC_WS_AUTH_TIMEOUT_MS, lists them in --help', () => {
    const env = {
      SYNC_MAX_BATCH_CALLS: '8',
      SYNC_MAX_RESPONSE_BYTES: '4_194_304',
      SYNC_WS_MAX_PAYLOAD_BYTES: '1048576',
      SYNC_WS_AUTH_TIMEOUT_MS: '0',
    };
    expect(readConfig(['serve'], env).requestBounds).toEqual({
      maxBatchCalls: 8,
      maxResponseBytes: 4_194_304,
      wsMaxPayloadBytes: 1_048_576,
      wsAuthTimeoutMs: 0,
    });
    expect(readConfig(['serve'], { SYNC_MAX_BATCH_CALLS: '' }).requestBounds).toEqual({});
    for (const name of Object.keys(env)) expect(HELP).toContain(name);
  });
  it('refuses a bad value with one line naming the variable', () => {
    expect(refusal({ SYNC_MAX_BATCH_CALLS: '0' })).toBe(
      'SYNC_MAX_BATCH_CALLS: expected a whole number, at least 1 (maxBatchCalls, default 16), got "0"',
    );
    expect(refusal({ SYNC_MAX_RESPONSE_BYTES: '1k' })).toMatch(
      /^SYNC_MAX_RESPONSE_BYTES: expected a whole number, at least 1024 \(maxResponseBytes/,
    );
    expect(refusal({ SYNC_WS_MAX_PAYLOAD_BYTES: '100' })).toMatch(
      /^SYNC_WS_MAX_PAYLOAD_BYTES: expected a whole number, at least 16384/,
    );
    expect(refusal({ SYNC_WS_AUTH_TIMEOUT_MS: 'soon' })).toBe(
      'SYNC_WS_AUTH_TIMEOUT_MS: expected a whole number, 0 or more (wsAuthTimeoutMs, default 10000), got "soon"',
    );
  });
  it('the real serve process applies them', { timeout: 90_000 }, async () => {
    const secret = 'request-cost-secret-request-cost-secret';
    const dir = mkdtempSync(join(tmpdir(), 'sync-request-cost-'));
    const run = spawnCli(['serve'], secret, {
      SYNC_DATA_DIR: dir,
      SYNC_LOG: 'error',
      SYNC_MAX_BATCH_CALLS: '4',
      SYNC_WS_MAX_PAYLOAD_BYTES: '20000',
      SYNC_WS_AUTH_TIMEOUT_MS: '200',
    });
    try {
      const port = await listeningPort(run);
      expect(run.output()).toContain(
        'request bounds: maxBatchCalls=4, wsMaxPayloadBytes=20000, wsAuthTimeoutMs=200',
      );
      const token = await signDevToken(secret, { sub: 'ann', tenant: 'shop', expiresIn: 600 });
      const url = `http://127.0.0.1:${port}`;
      expect((await batch(url, 'pull', 4, token)).status).toBe(200);
      const five = await batch(url, 'pull', 5, token);
      expect(five.status).toBe(400);
      expect(five.text).toContain('at most 4 calls per batch (maxBatchCalls)');
      expect(await oversizeFrame(port, '/trpc', 32 * 1024)).toBe(1009);
      expect(await closeOf(`ws://127.0.0.1:${port}/trpc`).closed).toBe(4401);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('a malformed bound exits 1 with one line', { timeout: 30_000 }, async () => {
    const run = spawnCli(['serve'], 'x'.repeat(32), {
      SYNC_DATA_DIR: join(tmpdir(), 'never-used'),
      SYNC_MAX_BATCH_CALLS: 'many',
    });
    expect(await run.exited).toBe(1);
    expect(run.output()).toBe(
      'error: SYNC_MAX_BATCH_CALLS: expected a whole number, at least 1 (maxBatchCalls, default 16), got "many"\n',
    );
  });
});

describe('request cost: the pieces', () => {
  it('batchTooLarge counts the calls of a batch target, %2C included, and ignores non-batch calls', () => {
    expect(batchTooLarge('/trpc/sync.pull,sync.pull?batch=1', 2)).toBeNull();
    expect(
      batchTooLarge('/trpc/sync.pull,sync.pull,sync.pull?batch=1&input=%7B%7D', 2)?.message,
    ).toContain('at most 2 calls per batch (maxBatchCalls), got 3');
    expect(
      batchTooLarge('/trpc/sync.pull%2Csync.pull%2csync.pull?batch=1', 2)?.issues[0]?.path,
    ).toBe('batch');
    expect(batchTooLarge('/trpc/sync.pull,sync.pull,sync.pull', 2)).toBeNull(); // not a batch: one (unknown) procedure
  });
  it('an HTTP budget runs calls one at a time and refuses those after the answers reach it', async () => {
    const budget = responseBudget(64 * 1024, {});
    let running = 0;
    let most = 0;
    const page = () => async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
      return { docs: ['x'.repeat(30 * 1024)] };
    };
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map(() => budget.run(page())));
    expect(most).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    const refused = (outcomes[3] as PromiseRejectedResult).reason as SyncError;
    expect(refused.code).toBe('PAYLOAD_TOO_LARGE');
    expect(refused.message).toContain('maxResponseBytes');
  });
  it('a WebSocket budget looks at what the socket still holds for its peer', async () => {
    const socket = { bufferedAmount: 0 };
    const budget = responseBudget(64 * 1024, socket);
    expect(await budget.run(async () => 'read')).toBe('read');
    socket.bufferedAmount = 64 * 1024;
    const error = await budget
      .run(async () => 'never')
      .then(
        () => null,
        (e: unknown) => e as SyncError,
      );
    expect(error?.code).toBe('PAYLOAD_TOO_LARGE');
    socket.bufferedAmount = 0;
    expect(await budget.run(async () => 'read again')).toBe('read again');
  });
});
