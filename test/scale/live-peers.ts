/** Live-stream peers for tests, one per face (SSE, raw WebSocket, tRPC WebSocket, tRPC SSE), that can stop reading and resume. */
import http from 'node:http';
import superjson from 'superjson';
import WebSocket from 'ws';
import type { StreamEvent } from '../../shared/protocol.js';

/** The four ways a client can hold a live stream. */
export type PeerFace = 'sse' | 'ws' | 'trpc-ws' | 'trpc-sse';

/** One live subscriber as the test sees it. */
export interface LivePeer {
  face: PeerFace;
  /** Stream events received so far, in order. */
  events: StreamEvent[];
  /** Errors the face reported (SSE `error` event, WS error frame, tRPC error), as received. */
  errors: unknown[];
  /** Stops reading from the socket: the server's writes pile up in the kernel, then in its own buffers. */
  pause(): void;
  resume(): void;
  /** Settles when the server ended or cut the connection, with the WebSocket close code when there is one. */
  closed: Promise<{ code?: number; reason?: string }>;
  isClosed(): boolean;
  /** Checkpoint of the last `changes` event received. */
  lastCheckpoint(): string | undefined;
  close(): void;
}

export interface PeerOptions {
  base: string;
  token: string;
  since?: string;
}

/** Parses SSE blocks out of `text`; returns the unparsed tail. */
function parseSse(
  text: string,
  onEvent: (event: string, data: string, id?: string) => void,
): string {
  let end: number;
  while ((end = text.indexOf('\n\n')) >= 0) {
    const block = text.slice(0, end);
    text = text.slice(end + 2);
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
    if (data.length > 0) onEvent(event, data.join('\n'), id);
  }
  return text;
}

function base(face: PeerFace) {
  const events: StreamEvent[] = [];
  const errors: unknown[] = [];
  let closed = false;
  let settle!: (v: { code?: number; reason?: string }) => void;
  const closedPromise = new Promise<{ code?: number; reason?: string }>(
    (resolve) => (settle = resolve),
  );
  return {
    face,
    events,
    errors,
    closed: closedPromise,
    isClosed: () => closed,
    end(v: { code?: number; reason?: string } = {}) {
      if (closed) return;
      closed = true;
      settle(v);
    },
    lastCheckpoint() {
      for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i]!;
        if (e.type === 'changes') return e.checkpoint;
      }
      return undefined;
    },
  };
}

/** An SSE request over `http.get`; pausing the response stops reading the socket once Node's small buffer is full. */
function httpSsePeer(
  face: 'sse' | 'trpc-sse',
  url: string,
  token: string,
  decode: (event: string, data: string) => StreamEvent | { error: unknown } | null,
): Promise<LivePeer> {
  const b = base(face);
  return new Promise((resolve, reject) => {
    const req = http.get(
      url,
      { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            reject(
              Object.assign(new Error(`status ${res.statusCode}: ${body}`), {
                status: res.statusCode,
                body,
              }),
            ),
          );
          return;
        }
        res.setEncoding('utf8');
        let tail = '';
        res.on('data', (chunk: string) => {
          tail = parseSse(tail + chunk, (event, data) => {
            const decoded = decode(event, data);
            if (!decoded) return;
            if ('error' in decoded && !('type' in decoded)) b.errors.push(decoded.error);
            else b.events.push(decoded as StreamEvent);
          });
        });
        res.on('end', () => b.end());
        res.on('close', () => b.end());
        res.on('error', () => b.end());
        const { end: _end, ...rest } = b;
        resolve({
          ...rest,
          pause: () => res.pause(),
          resume: () => res.resume(),
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', (error) => {
      b.end();
      reject(error);
    });
  });
}

/** `GET /sync/stream` (the REST face's SSE). */
export function ssePeer(o: PeerOptions): Promise<LivePeer> {
  const q = o.since ? `?since=${encodeURIComponent(o.since)}` : '';
  return httpSsePeer('sse', `${o.base}/sync/stream${q}`, o.token, (event, data) => {
    const parsed = JSON.parse(data) as StreamEvent | { type: 'error'; error: unknown };
    return parsed.type === 'error'
      ? { error: (parsed as { error: unknown }).error }
      : (parsed as StreamEvent);
  });
}

/** tRPC `sync.stream` over tRPC's SSE (what `httpSubscriptionLink` asks for). */
export function trpcSsePeer(o: PeerOptions): Promise<LivePeer> {
  const input = encodeURIComponent(
    JSON.stringify(superjson.serialize(o.since ? { since: o.since } : {})),
  );
  return httpSsePeer(
    'trpc-sse',
    `${o.base}/trpc/sync.stream?input=${input}`,
    o.token,
    (event, data) => {
      if (event === 'serialized-error')
        return { error: superjson.deserialize(JSON.parse(data)) ?? JSON.parse(data) };
      if (event !== 'message') return null;
      return superjson.deserialize(JSON.parse(data)) as StreamEvent;
    },
  );
}

function wsBase(
  face: 'ws' | 'trpc-ws',
  url: string,
  onOpen: (ws: WebSocket) => void,
  onMessage: (text: string, b: ReturnType<typeof base>) => void,
): Promise<LivePeer> {
  const b = base(face);
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) onMessage(data.toString(), b);
  });
  ws.on('close', (code, reason) => b.end({ code, reason: reason.toString() }));
  ws.on('error', () => b.end());
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      onOpen(ws);
      const { end: _end, ...rest } = b;
      resolve({
        ...rest,
        pause: () => ws.pause(),
        resume: () => ws.resume(),
        close: () => ws.terminate(),
      });
    });
    ws.once('error', reject);
  });
}

/** `WS /sync/stream` (the raw WebSocket face). */
export function wsPeer(o: PeerOptions): Promise<LivePeer> {
  return wsBase(
    'ws',
    `${o.base.replace(/^http/, 'ws')}/sync/stream`,
    (ws) =>
      ws.send(
        JSON.stringify({
          type: 'subscribe',
          token: o.token,
          ...(o.since ? { since: o.since } : {}),
        }),
      ),
    (text, b) => {
      const frame = JSON.parse(text) as StreamEvent | { type: 'error'; error: unknown };
      if (frame.type === 'error') b.errors.push((frame as { error: unknown }).error);
      else b.events.push(frame as StreamEvent);
    },
  );
}

/**
 * tRPC `sync.stream` over tRPC's WebSocket, spoken by hand so the test controls the socket.
 * `subscriptions` subscriptions (ids 1…n) share the one socket; events of all go to `events`.
 */
export async function trpcWsPeer(o: PeerOptions & { subscriptions?: number }): Promise<LivePeer> {
  const n = o.subscriptions ?? 1;
  return wsBase(
    'trpc-ws',
    `${o.base.replace(/^http/, 'ws')}/trpc?token=${encodeURIComponent(o.token)}`,
    (ws) => {
      for (let id = 1; id <= n; id++) {
        ws.send(
          JSON.stringify({
            id,
            method: 'subscription',
            params: {
              path: 'sync.stream',
              input: superjson.serialize(o.since ? { since: o.since } : {}),
            },
          }),
        );
      }
    },
    (text, b) => {
      if (!text.startsWith('{')) return; // PING
      const msg = JSON.parse(text) as {
        id: number;
        result?: { type: string; data?: unknown };
        error?: unknown;
      };
      if (msg.error) b.errors.push(msg.error);
      else if (msg.result?.type === 'data') {
        const tracked = superjson.deserialize(msg.result.data as never) as {
          id: string;
          data: StreamEvent;
        };
        b.events.push(tracked.data);
      }
    },
  );
}

/** The fastapi-offline-sync face's WebSocket: its frames mapped back to stream events (one `changes` per change frame). */
export function compatPeer(o: PeerOptions): Promise<LivePeer> {
  return wsBase(
    'ws',
    `${o.base.replace(/^http/, 'ws')}/compat/fastapi-offline-sync/sync/stream`,
    (ws) => ws.send(JSON.stringify({ type: 'subscribe', token: o.token, since: o.since ?? null })),
    (text, b) => {
      const frame = JSON.parse(text) as {
        type: string;
        id?: string;
        last_seq?: string;
        error?: unknown;
      };
      if (frame.type === 'change')
        b.events.push({
          type: 'changes',
          checkpoint: frame.last_seq!,
          changes: [{ id: frame.id } as never],
        });
      else if (frame.type === 'full_resync_required') b.events.push({ type: 'resync_required' });
      else if (frame.type === 'error') b.errors.push(frame.error);
    },
  );
}

/** Opens a peer of `face`. */
export function openPeer(face: PeerFace, o: PeerOptions): Promise<LivePeer> {
  if (face === 'sse') return ssePeer(o);
  if (face === 'ws') return wsPeer(o);
  if (face === 'trpc-ws') return trpcWsPeer(o);
  return trpcSsePeer(o);
}

/** Polls `check` until it is true (or throws after `timeoutMs`). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
