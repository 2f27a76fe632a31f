/**
 * One driver per face: each turns a conformance case into that face's request and reads its answer
 * back.
 */
import WebSocket from 'ws';

/** What a case varies: the token, and one thing wrong with the request (or nothing). */
export interface Attempt {
  token: string | null;
  variant?: 'big-body' | 'long-url' | 'old-schema';
}

/**
 * A face's answer, whatever its transport: the error code, the HTTP status (or 4000 + close code)
 * and the request id.
 */
export interface Outcome {
  code: string;
  status: number;
  requestId?: string;
}

/** The cases, by key. */
export type CaseKey =
  | '401-none'
  | '401-bad'
  | '401-throw'
  | '401-reject'
  | '403'
  | '413'
  | '414'
  | '426'
  | '429'
  | '5xx';

export interface FaceDriver {
  name: string;
  /** Cases this face cannot express, each with its reason. */
  skip?: Partial<Record<CaseKey, string>>;
  /** The status this face answers for a code where its protocol differs (tRPC has no 426). */
  statusFor?: Partial<Record<string, number>>;
  run(base: { url: string; port: number }, attempt: Attempt): Promise<Outcome>;
}

const PAD = 'a'.repeat(2100);
const change = (title: string) => ({
  mutationId: 1,
  collection: 'tasks',
  id: 'x',
  op: 'upsert',
  data: { title },
});
const pushBody = (a: Attempt) => ({
  clientId: 'face-client',
  changes: [change(a.variant === 'big-body' ? 'x'.repeat(5000) : 'ok')],
  ...(a.variant === 'old-schema' ? { schemaVersion: 1 } : {}),
});
const auth = (token: string | null): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};
const query = (a: Attempt) => (a.variant === 'long-url' ? `?pad=${PAD}` : '');

/** An HTTP JSON error answer, REST shape or tRPC shape. */
async function fromHttp(res: Response): Promise<Outcome> {
  const text = await res.text();
  const json = JSON.parse(text) as any;
  const error = json.error?.json ?? json.error;
  const sync = error?.data?.sync;
  return {
    status: res.status,
    code: typeof error?.code === 'string' ? error.code : (sync?.code ?? error?.data?.code),
    requestId: error?.requestId ?? sync?.requestId ?? res.headers.get('x-request-id') ?? undefined,
  };
}

/** Reads an event stream until an error event (`event: error` or tRPC's `serialized-error`). */
async function sseError(res: Response): Promise<Outcome> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    const m = /event: (error|serialized-error)\ndata: (.*)\n/.exec(text);
    if (m) {
      await reader.cancel();
      const data = JSON.parse(m[2]!) as any;
      const error = data.error ?? data.json ?? data;
      const sync = error?.data?.sync;
      const code = typeof error?.code === 'string' ? error.code : (sync?.code ?? error?.data?.code);
      return {
        status: error?.data?.httpStatus ?? STATUS[code] ?? 0,
        code,
        requestId: error?.requestId ?? sync?.requestId,
      };
    }
  }
  throw new Error(`stream ended without an error event: ${text.slice(0, 300)}`);
}

const STATUS: Record<string, number> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UPGRADE_REQUIRED: 426,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
};

/**
 * A WebSocket exchange: sends `first` once open, answers with the first error frame (and the
 * close code), or the HTTP status of a refused upgrade.
 */
function wsError(
  url: string,
  first: unknown,
  read: (msg: any) => Outcome | null,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let outcome: Outcome | null = null;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const json = JSON.parse(body) as any;
        resolve({ status: res.statusCode ?? 0, code: json.error?.code });
      });
    });
    ws.on('open', () => ws.send(JSON.stringify(first)));
    ws.on('message', (data) => {
      outcome ??= read(JSON.parse(data.toString()));
      if (outcome) {
        ws.close();
        resolve(outcome);
      }
    });
    ws.on('close', (code) =>
      outcome ? resolve(outcome) : reject(new Error(`closed ${code} without an error frame`)),
    );
    ws.on('error', () => undefined);
  });
}

const subscribeFrame = (a: Attempt) => ({
  type: 'subscribe',
  ...(a.token ? { token: a.token } : {}),
  ...(a.variant === 'old-schema' ? { schemaVersion: 1 } : {}),
});
const rawFrame = (msg: any): Outcome | null =>
  msg.type === 'error'
    ? { code: msg.error.code, status: STATUS[msg.error.code] ?? 0, requestId: msg.error.requestId }
    : null;
const trpcFrame = (msg: any): Outcome | null => {
  const error = msg.error?.json ?? msg.error;
  if (!error) return null;
  const sync = error.data?.sync;
  return {
    code: sync?.code ?? error.data?.code,
    status: error.data?.httpStatus ?? 0,
    requestId: sync?.requestId,
  };
};

export const drivers: FaceDriver[] = [
  {
    name: 'REST',
    run: async ({ url }, a) => {
      const headers = {
        'content-type': 'application/json',
        ...auth(a.token),
        ...(a.variant === 'old-schema' ? { 'x-sync-schema-version': '1' } : {}),
      };
      return fromHttp(
        await fetch(`${url}/sync/push${query(a)}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(pushBody(a)),
        }),
      );
    },
  },
  {
    name: 'SSE',
    skip: { '413': 'no body' },
    run: async ({ url }, a) => {
      const res = await fetch(`${url}/sync/stream${query(a)}`, {
        headers: {
          ...auth(a.token),
          ...(a.variant === 'old-schema' ? { 'x-sync-schema-version': '1' } : {}),
        },
      });
      return res.headers.get('content-type')?.startsWith('text/event-stream')
        ? sseError(res)
        : fromHttp(res);
    },
  },
  {
    name: 'raw WebSocket',
    skip: { '413': 'no body: one subscribe frame, bounded by maxPayloadBytes' },
    run: ({ port }, a) =>
      wsError(`ws://127.0.0.1:${port}/sync/stream${query(a)}`, subscribeFrame(a), rawFrame),
  },
  {
    name: 'compat HTTP',
    skip: { '426': 'no schema version on the fastapi-offline-sync wire' },
    run: async ({ url }, a) => {
      const title = a.variant === 'big-body' ? 'x'.repeat(5000) : 'ok';
      const body = {
        client_id: 'rn-1',
        changes: [
          {
            collection: 'tasks',
            operation: 'upsert',
            doc_id: 'x',
            data: { title },
            parent_version: null,
          },
        ],
      };
      const headers = { 'content-type': 'application/json', ...auth(a.token) };
      const res = await fetch(`${url}/compat/fastapi-offline-sync/sync/push${query(a)}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
      return fromHttp(res);
    },
  },
  {
    name: 'compat WebSocket',
    skip: {
      '413': 'no body: one subscribe frame',
      '426': 'no schema version on the fastapi-offline-sync wire',
    },
    run: ({ port }, a) =>
      wsError(
        `ws://127.0.0.1:${port}/compat/fastapi-offline-sync/sync/stream${query(a)}`,
        { type: 'subscribe', ...(a.token ? { token: a.token } : {}) },
        rawFrame,
      ),
  },
  {
    name: 'tRPC HTTP',
    statusFor: { UPGRADE_REQUIRED: 412 },
    run: async ({ url }, a) => {
      const headers = { 'content-type': 'application/json', ...auth(a.token) };
      return fromHttp(
        await fetch(`${url}/trpc/sync.push${query(a)}`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ json: pushBody(a) }),
        }),
      );
    },
  },
  {
    name: 'tRPC WebSocket',
    skip: { '413': 'no body: frames are bounded by wsMaxPayloadBytes (close 1009)' },
    statusFor: { UPGRADE_REQUIRED: 412 },
    run: ({ port }, a) => {
      const params = new URLSearchParams(a.token ? { token: a.token } : {});
      if (a.variant === 'long-url') params.set('pad', PAD);
      const input = a.variant === 'old-schema' ? { schemaVersion: 1 } : {};
      const first = {
        id: 1,
        method: 'subscription',
        params: { path: 'sync.stream', input: { json: input } },
      };
      return wsError(`ws://127.0.0.1:${port}/trpc?${params}`, first, trpcFrame);
    },
  },
  {
    name: 'tRPC SSE subscription',
    skip: { '413': 'no body' },
    statusFor: { UPGRADE_REQUIRED: 412 },
    run: async ({ url }, a) => {
      const input = encodeURIComponent(
        JSON.stringify({ json: a.variant === 'old-schema' ? { schemaVersion: 1 } : {} }),
      );
      const pad = a.variant === 'long-url' ? `&pad=${PAD}` : '';
      const res = await fetch(`${url}/trpc/sync.stream?input=${input}${pad}`, {
        headers: auth(a.token),
      });
      return res.headers.get('content-type')?.startsWith('text/event-stream')
        ? sseError(res)
        : fromHttp(res);
    },
  },
  {
    name: 'one-port server: GET /sync/status',
    skip: {
      '413': 'no body',
      '426': 'no schema version: an operator endpoint',
      '429': 'not rate limited: an operator endpoint',
      '5xx': 'reads only the store head and feed state; no hook of the test can fail it',
    },
    run: async ({ url }, a) =>
      fromHttp(await fetch(`${url}/sync/status${query(a)}`, { headers: auth(a.token) })),
  },
];
