/**
 * `WS /sync/stream` of the fastapi-offline-sync face: a subscribe frame in
 * (`{ type: "subscribe", since, collections, token? }`, or the token as `?token=`), then one frame
 * per change, heartbeats, and `{ type: "full_resync_required", collections }` followed by a close.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { SyncError, issuesFromZod } from '../../../shared/errors.js';
import { collectionName, type StreamEvent } from '../../../shared/protocol.js';
import type { Authenticate } from '../../auth/authenticate.js';
import type { SyncEngine } from '../../engine/types.js';
import { authenticateToken, bearerToken } from '../../rest/auth.js';
import { statusOf } from '../../rest/errors.js';
import { checkCollections } from '../../rest/stream-input.js';
import { closeCodeFor } from '../../rest/websocket.js';
import { resyncAnswer, usableSince } from './pull.js';
import { toCompatChange } from './wire.js';

/** Options of `createFastapiCompatWebSocketServer`. */
export interface FastapiCompatWebSocketOptions {
  engine: SyncEngine;
  authenticate: Authenticate;
  /** Path `handleUpgrade` accepts. @default '/sync/stream' */
  path?: string;
  /** Time to wait for the subscribe frame. @default 10000 */
  subscribeTimeoutMs?: number;
}

/** The compat WebSocket face: attach `handleUpgrade` to a server's `upgrade` event. */
export interface FastapiCompatWebSocketServer {
  wss: WebSocketServer;
  /** Takes over the upgrade when the path matches and returns true; otherwise returns false. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes every connection and stops their streams. */
  close(): Promise<void>;
}

const subscribeFrame = z.object({
  type: z.literal('subscribe'),
  since: z.string().max(200).nullish(),
  collections: z.array(collectionName).max(100).nullish(),
  token: z.string().max(8192).nullish(),
});

/**
 * The frames of one stream event: one `{ type: "change", … }` per change (each carrying the
 * commit's `last_seq`, a resume point), `{ type: "heartbeat", last_seq }`, or the resync frame.
 */
export function compatFrames(event: StreamEvent, engine: SyncEngine, collections: string[] | undefined): unknown[] {
  if (event.type === 'changes') return event.changes.map((c) => ({ type: 'change', ...toCompatChange(c), last_seq: event.checkpoint }));
  if (event.type === 'heartbeat') return [{ type: 'heartbeat', last_seq: event.checkpoint }];
  if (event.type === 'resync_required') return [{ type: 'full_resync_required', collections: resyncAnswer(engine, collections).collections }];
  return [];
}

/**
 * Creates the compat WebSocket server (`noServer`).
 *
 * @example
 * const ws = createFastapiCompatWebSocketServer({ engine, authenticate, path: '/compat/fastapi-offline-sync/sync/stream' });
 * server.on('upgrade', (req, socket, head) => { if (!ws.handleUpgrade(req, socket, head)) socket.destroy(); });
 */
export function createFastapiCompatWebSocketServer(options: FastapiCompatWebSocketOptions): FastapiCompatWebSocketServer {
  const path = (options.path ?? '/sync/stream').replace(/\/+$/, '');
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const stops = new Set<() => void>();
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const fallbackToken = url.searchParams.get('token') ?? bearerToken(req.headers.authorization ?? null);
    const abort = new AbortController();
    const stop = () => abort.abort();
    stops.add(stop);
    socket.once('close', () => {
      stops.delete(stop);
      abort.abort();
    });
    socket.on('error', () => abort.abort());
    const timer = setTimeout(() => refuse(socket, new SyncError('BAD_REQUEST', 'no subscribe frame received in time'), 4408), options.subscribeTimeoutMs ?? 10_000);
    socket.once('message', (data, isBinary) => {
      clearTimeout(timer);
      void serve(socket, isBinary ? null : data.toString(), fallbackToken, abort.signal, options).catch((error: unknown) => refuse(socket, error));
    });
  });
  return {
    wss,
    handleUpgrade(req, socket, head) {
      const pathname = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
      if (pathname !== path) return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    async close() {
      for (const stop of stops) stop();
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

async function serve(socket: WebSocket, text: string | null, fallbackToken: string | null, signal: AbortSignal, options: FastapiCompatWebSocketOptions): Promise<void> {
  const { engine } = options;
  const frame = parseFrame(text);
  const actor = await authenticateToken(options.authenticate, frame.token ?? fallbackToken);
  const collections = frame.collections ?? undefined;
  checkCollections(engine, collections);
  const send = (value: unknown) => new Promise<void>((resolve, reject) => socket.send(JSON.stringify(value), (err) => (err ? reject(err) : resolve())));
  if (!usableSince(frame.since)) {
    await send(resyncAnswerFrame(engine, collections));
    socket.close(1000, 'full_resync_required');
    return;
  }
  for await (const event of engine.stream(actor, { since: frame.since, collections }, signal)) {
    if (socket.readyState !== socket.OPEN) break;
    // One send in flight at a time: a slow client backs up into the engine's bounded queue.
    for (const out of compatFrames(event, engine, collections)) await send(out);
    if (event.type === 'resync_required') {
      socket.close(1000, 'full_resync_required');
      return;
    }
  }
  if (socket.readyState === socket.OPEN) socket.close(1000, 'stream ended');
}

function resyncAnswerFrame(engine: SyncEngine, collections: string[] | undefined) {
  return { type: 'full_resync_required', collections: resyncAnswer(engine, collections).collections };
}

function parseFrame(text: string | null): z.infer<typeof subscribeFrame> {
  let value: unknown;
  try {
    if (text === null) throw new Error('binary');
    value = JSON.parse(text);
  } catch {
    throw new SyncError('BAD_REQUEST', 'first frame must be a JSON text frame {"type":"subscribe",…}', [{ path: '', message: 'malformed JSON' }]);
  }
  const parsed = subscribeFrame.safeParse(value);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues);
    throw new SyncError('BAD_REQUEST', `invalid subscribe frame: ${issues[0]?.path || '(root)'}: ${issues[0]?.message}`, issues);
  }
  return parsed.data;
}

function refuse(socket: WebSocket, error: unknown, code?: number): void {
  if (socket.readyState !== socket.OPEN) return;
  const body = SyncError.is(error) ? error.toJSON().error : { code: 'INTERNAL', message: 'internal server error', issues: [] };
  const status = SyncError.is(error) ? statusOf(error.code) : 500;
  socket.send(JSON.stringify({ type: 'error', detail: body.message, error: body }), () => socket.close(code ?? closeCodeFor(status), body.code));
}
