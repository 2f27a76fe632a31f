/** Hostile-input fixtures: a real one-port server (REST, tRPC over HTTP, raw WebSocket) on 127.0.0.1, two tenants, raw requests. */
import WebSocket from 'ws';
import { z } from 'zod';
import { jwtAuthenticator, signDevToken } from '../../server/auth/jwt.js';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngine, SyncEngineOptions } from '../../server/engine/types.js';
import { createSyncHttpServer, type SyncHttpServerOptions } from '../../server/http/server.js';
import { createMetrics, type SyncMetrics } from '../../server/metrics.js';
import { memoryStore } from '../../server/stores/memory.js';
import type { Store } from '../../server/stores/store.js';
import type { UnexpectedError } from '../../server/unexpected.js';
import { defineSyncSchema, type SyncSchema } from '../../shared/schema.js';
import { readAnswer } from '../rest/harness.js';

/** A strict collection, a passthrough one and a free-form record one (the hostile-key cases need the last two). */
export const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
  loose: z.object({ title: z.string().optional() }).passthrough(),
  free: z.object({
    meta: z.record(z.string(), z.unknown()).optional(),
    tags: z.array(z.unknown()).optional(),
  }),
});

const SECRET = 'hostile-test-secret-0123456789abcdef';

export interface HostileServer {
  url: string;
  port: number;
  engine: SyncEngine;
  store: Store;
  /** Tokens of tenant A (user a1) and tenant B (user b1). */
  tokenA: string;
  tokenB: string;
  /** The server's metrics (also served at /metrics). */
  metrics: SyncMetrics;
  /** Unexpected failures the server reported (request id, operation, error). */
  unexpected: UnexpectedError[];
  /** Oplog heads of both tenants, to prove nothing was written. */
  heads(): Promise<[number, number]>;
  close(): Promise<void>;
}

/**
 * Starts engine + createSyncHttpServer over `store` (memory by default). An `authorize` hook throws
 * for id "boom", to exercise the 500 path. `server` adds server options (e.g. `ipRateLimit`).
 */
export async function startHostileServer(
  store?: Store,
  engine: Partial<SyncEngineOptions> = {},
  server: Partial<SyncHttpServerOptions> = {},
): Promise<HostileServer> {
  const s = store ?? memoryStore();
  await s.init();
  const eng = createSyncEngine({
    store: s,
    schema: schema as unknown as SyncSchema,
    stream: { heartbeatMs: 1000, pollMs: 500 },
    authorize: ({ change }) => {
      if (change.id === 'boom') throw new Error('store exploded at boom');
      return true;
    },
    ...engine,
  }) as SyncEngine;
  const unexpected: UnexpectedError[] = [];
  const metrics = createMetrics({ processMetrics: false });
  const http = createSyncHttpServer({
    engine: eng,
    authenticate: jwtAuthenticator({ secret: SECRET }),
    onError: (info) => unexpected.push(info),
    metrics,
    ...server,
  });
  const { url, port } = await http.listen(0, '127.0.0.1');
  const tokenA = await signDevToken(SECRET, { sub: 'a1', tenant: 'tenant-a', expiresIn: '1h' });
  const tokenB = await signDevToken(SECRET, { sub: 'b1', tenant: 'tenant-b', expiresIn: '1h' });
  return {
    url,
    port,
    engine: eng,
    store: s,
    metrics,
    tokenA,
    tokenB,
    unexpected,
    async heads() {
      const [a, b] = await Promise.all([s.head('tenant-a'), s.head('tenant-b')]);
      return [a.seq, b.seq];
    },
    async close() {
      await http.close();
      await eng.close();
      await s.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

const answer = (res: Response): Promise<Answer> => readAnswer(res);

/** A raw REST request; `body` strings are sent as they are. */
export async function rest(
  url: string,
  path: string,
  init: {
    method?: string;
    token?: string | null;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
    headers,
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
  return answer(res);
}

/**
 * A raw tRPC call over HTTP (no client library, so broken inputs reach the server): mutations POST
 * `{ json: input }`, queries GET `?input=`. `raw` sends the body text as it is.
 */
export async function trpc(
  url: string,
  procedure: 'push' | 'pull' | 'full',
  input: unknown,
  token: string | null,
  raw?: string,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    ...extraHeaders,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const path = `${url}/trpc/sync.${procedure}`;
  if (procedure === 'push') {
    headers['content-type'] = 'application/json';
    return answer(
      await fetch(path, { method: 'POST', headers, body: raw ?? JSON.stringify({ json: input }) }),
    );
  }
  const q = raw ?? JSON.stringify({ json: input });
  return answer(await fetch(`${path}?input=${encodeURIComponent(q)}`, { headers }));
}

/** The sync error data of a tRPC error answer. */
export function trpcError(a: Answer): {
  code?: string;
  httpStatus?: number;
  sync?: { code: string; issues: { path: string; message: string }[]; requestId?: string } | null;
} {
  return a.json?.error?.json?.data ?? {};
}

/** Opens a raw `WS /sync/stream`, sends `frames`, collects what comes back until close or `ms`. */
export async function wsFrames(
  port: number,
  frames: (string | Buffer)[],
  ms = 400,
): Promise<{ messages: string[]; closeCode: number | null }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/sync/stream`);
  const messages: string[] = [];
  let closeCode: number | null = null;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, ms);
    ws.on('open', () => {
      for (const f of frames) ws.send(f);
    });
    ws.on('message', (d) => messages.push(d.toString()));
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      closeCode = code;
      clearTimeout(timer);
      resolve();
    });
  });
  return { messages, closeCode };
}

/** JSON text of `[[[[…1…]]]]` nested `depth` levels (built as text: JSON.stringify would overflow the test's own stack). */
export function deepArray(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** JSON text of `{ "n": { "n": … } }` nested `depth` levels. */
export function deepObject(depth: number): string {
  return `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A JSON text with `placeholder` (a quoted string in `value`) replaced by raw JSON text `raw`. */
export function withRaw(value: unknown, raw: string, placeholder = '"@RAW@"'): string {
  return JSON.stringify(value).replace(placeholder, raw);
}

/** One upsert push body. */
export function upsert(
  collection: string,
  id: string,
  data: unknown,
  mutationId = 1,
): { clientId: string; changes: unknown[] } {
  return {
    clientId: 'hostile-client',
    changes: [{ mutationId, collection, id, op: 'upsert', data }],
  };
}

/**
 * Sends one raw tRPC WebSocket frame on `WS /trpc?token=…` (no client library, so broken inputs
 * reach the server) and answers the server's reply to it (`id` 1), or null when none came in `ms`.
 */
export async function trpcWs(
  port: number,
  token: string | null,
  frame: string,
  ms = 2000,
): Promise<any> {
  const ws = new WebSocket(
    `ws://127.0.0.1:${port}/trpc${token ? `?token=${encodeURIComponent(token)}` : ''}`,
  );
  try {
    return await new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => resolve(null), ms);
      ws.on('open', () => ws.send(frame));
      ws.on('message', (d) => {
        const msg = JSON.parse(d.toString());
        if (msg.id === 1 || msg.id === null) {
          clearTimeout(timer);
          resolve(msg);
        }
      });
      ws.on('error', reject);
    });
  } finally {
    ws.terminate();
  }
}

/** What a raw WebSocket did after our frames: the messages it sent, its close code (null: still open), and whether it did either within the bound. */
export interface WsOutcome {
  messages: string[];
  closeCode: number | null;
  /** True when the socket neither sent a message nor closed within the bound: a hang. */
  silent: boolean;
}

/**
 * Opens `path` (e.g. `/sync/stream`, `/trpc?token=…`), sends `frames`, and waits up to `ms` for the
 * server to answer: `done(messages)` true ends the wait, as does a close (then `closeCode` is set).
 * After the first answer it waits `settleMs` more for a close that may follow (an error frame, then 44xx).
 */
export async function wsOutcome(
  port: number,
  path: string,
  frames: (string | Buffer)[],
  done: (messages: string[]) => boolean,
  ms = 5000,
  settleMs = 100,
): Promise<WsOutcome> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const messages: string[] = [];
  let closeCode: number | null = null;
  let silent = false;
  await new Promise<void>((resolve) => {
    let settle: ReturnType<typeof setTimeout> | undefined;
    const bound = setTimeout(() => {
      silent = true;
      resolve();
    }, ms);
    const finish = () => {
      clearTimeout(bound);
      clearTimeout(settle);
      resolve();
    };
    ws.on('open', () => {
      for (const f of frames) ws.send(f);
    });
    ws.on('message', (d) => {
      messages.push(d.toString());
      if (!settle && done(messages)) {
        clearTimeout(bound);
        settle = setTimeout(finish, settleMs);
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      closeCode = code;
      finish();
    });
  });
  ws.terminate();
  return { messages, closeCode, silent };
}

/** A WebSocket upgrade's outcome: `open`, or the HTTP status and body the server refused it with. */
export async function upgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  open: boolean;
  status: number | null;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve) => {
    ws.on('open', () => {
      ws.terminate();
      resolve({ open: true, status: 101, headers: {}, body: '' });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () =>
        resolve({ open: false, status: res.statusCode ?? null, headers: res.headers, body }),
      );
      res.on('error', () =>
        resolve({ open: false, status: res.statusCode ?? null, headers: res.headers, body }),
      );
    });
    ws.on('error', () => resolve({ open: false, status: null, headers: {}, body: '' }));
  });
}
