/** `WS /sync/stream`: the live stream over a raw WebSocket with JSON frames (subscribe frame in, stream events out). */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WsServer, WsSocket } from '../ws-types.js';
import { z } from 'zod';
import { SyncError, issuesFromZod, type SyncIssue } from '../../shared/errors.js';
import { collectionName, schemaVersion, viewRequest } from '../../shared/protocol.js';
import type { Authenticate } from '../auth/authenticate.js';
import type { SyncEngine } from '../engine/types.js';
import { openLiveStream } from '../live/slow-consumers.js';
import { wsTransport } from '../live/transports.js';
import { bearerToken } from '../gateway/auth.js';
import { answerError, closeCodeFor, type ErrorAnswer } from '../gateway/errors.js';
import { createSyncGateway, type SyncGateway } from '../gateway/gateway.js';
import type { TransportLimits } from '../gateway/limits.js';
import type { OnUnexpectedError } from '../gateway/request-id.js';
import { frameCache } from './frames.js';
import { requestUrl } from '../http/request-target.js';
import { checkStreamRequest } from './stream-input.js';

/** Options of `createRestWebSocketServer`. */
export interface RestWebSocketOptions {
  engine: SyncEngine;
  authenticate: Authenticate;
  /** The gateway to run over (shared live caps and reporting). @default one of its own from these options */
  gateway?: SyncGateway;
  /** Transport limits (live caps, slow-consumer bounds) of its own gateway. @default the engine's forwarded values, then the defaults */
  limits?: Partial<TransportLimits>;
  /** Told of each unexpected failure once (answered with an `INTERNAL` error frame carrying its request id). @default one JSON line on stderr */
  onError?: OnUnexpectedError;
  /** Path `handleUpgrade` accepts (others are left to the caller). @default '/sync/stream' */
  path?: string;
  /** Time to wait for the subscribe frame (`createSyncHttpServer` passes its `wsAuthTimeoutMs`). @default 10000 */
  subscribeTimeoutMs?: number;
  /** Largest client frame, refused by its header before anything is buffered (close 1009). @default 65536 */
  maxPayloadBytes?: number;
}

/** The raw WebSocket face: attach `handleUpgrade` to a server's `upgrade` event. */
export interface RestWebSocketServer {
  /** The underlying `ws` server (`noServer: true`). */
  wss: WsServer;
  /** Takes over the upgrade when the path matches and returns true; otherwise returns false and leaves the socket alone. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Closes every connection and stops their streams. */
  close(): Promise<void>;
}

const subscribeFrame = z.object({
  type: z.literal('subscribe'),
  since: z.string().max(200).nullish(),
  collections: z.array(collectionName).max(100).optional(),
  token: z.string().max(8192).optional(),
  lastEventId: z.string().max(200).nullish(),
  schemaVersion: schemaVersion.nullish(),
  /** A read rule's view (docs/protocol.md, "Views"); omitted: the actor's default views. */
  view: viewRequest.optional(),
  /** With `view`: the view's checksum on the last catch-up event (docs/protocol.md). */
  verifyView: z.boolean().optional(),
});

export { closeCodeFor };

/** The gateway a raw WebSocket face runs over: the given one, or one of its own. */
export function socketGateway(options: RestWebSocketOptions, who: string): SyncGateway {
  return (
    options.gateway ??
    createSyncGateway({
      engine: options.engine,
      authenticate: options.authenticate,
      limits: options.limits,
      onError: options.onError,
      who,
    })
  );
}

/**
 * Creates the raw WebSocket face. The client's first frame is
 * `{ type: "subscribe", since, collections, token }` (the token may instead come as `?token=` or an
 * `Authorization` header); then every stream event is sent as one JSON frame.
 *
 * @example
 * const ws = createRestWebSocketServer({ engine, authenticate });
 * server.on('upgrade', (req, socket, head) => { if (!ws.handleUpgrade(req, socket, head)) socket.destroy(); });
 */
export function createRestWebSocketServer(options: RestWebSocketOptions): RestWebSocketServer {
  const gateway = socketGateway(options, 'createRestWebSocketServer');
  return createFrameSocketServer({
    report: gateway.onError,
    path: options.path ?? '/sync/stream',
    subscribeTimeoutMs: options.subscribeTimeoutMs,
    maxPayloadBytes: options.maxPayloadBytes,
    serve: (socket, text, fallbackToken, signal) =>
      serve(socket, text, fallbackToken, signal, gateway),
  });
}

/** What `createFrameSocketServer` needs: the path, and what to do with the first frame. */
export interface FrameSocketOptions {
  path: string;
  /** @default 10000 */
  subscribeTimeoutMs?: number;
  /** Largest client frame (`ws` refuses a larger one by its header, close 1009, before buffering it). @default 65536 */
  maxPayloadBytes?: number;
  /** Serves one connection from its first text frame (`null`: binary); a thrown error is sent as an error frame. */
  serve: (
    socket: WsSocket,
    text: string | null,
    fallbackToken: string | null,
    signal: AbortSignal,
  ) => Promise<void>;
  /** Told of an unexpected failure once; its error frame carries the request id. */
  report: OnUnexpectedError;
  /** Extra fields of the error frame (e.g. FastAPI's `detail`). */
  errorFields?: (error: { code: string; message: string }) => Record<string, unknown>;
}

/**
 * A `noServer` WebSocket server on one path whose clients speak first: it waits for the first
 * frame (closing with 4408 when none comes in time), hands it to `serve` with the `?token=` or
 * `Authorization` token, and stops every stream on close. Shared by the raw WebSocket faces.
 */
export function createFrameSocketServer(options: FrameSocketOptions): RestWebSocketServer {
  const path = options.path.replace(/\/+$/, '');
  const maxPayload = options.maxPayloadBytes ?? 64 * 1024;
  if (!Number.isSafeInteger(maxPayload) || maxPayload < 1024)
    throw new Error(
      `WebSocket face ${options.path}: maxPayloadBytes must be a whole number of bytes, at least 1024, got ${String(options.maxPayloadBytes)}`,
    );
  const subscribeTimeoutMs = options.subscribeTimeoutMs ?? 10_000;
  if (
    !Number.isSafeInteger(subscribeTimeoutMs) ||
    subscribeTimeoutMs < 1 ||
    subscribeTimeoutMs > 2_147_483_647
  )
    throw new Error(
      `WebSocket face ${options.path}: subscribeTimeoutMs must be a whole number of milliseconds from 1 to 2147483647, got ${String(options.subscribeTimeoutMs)}`,
    );
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  const stops = new Set<() => void>();
  const fail = (socket: WsSocket, error: unknown, code?: number) =>
    refuse(socket, answerError(error, `ws ${path}`, options.report), code, options.errorFields);

  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const fallbackToken =
      requestUrl(req)?.searchParams.get('token') ?? bearerToken(req.headers.authorization ?? null);
    const abort = new AbortController();
    const stop = () => abort.abort();
    stops.add(stop);
    socket.once('close', () => {
      stops.delete(stop);
      abort.abort();
    });
    const timer = setTimeout(
      () => fail(socket, new SyncError('BAD_REQUEST', 'no subscribe frame received in time'), 4408),
      subscribeTimeoutMs,
    );
    socket.once('message', (data, isBinary) => {
      clearTimeout(timer);
      void options
        .serve(socket, isBinary ? null : data.toString(), fallbackToken, abort.signal)
        .catch((error: unknown) => fail(socket, error));
    });
    socket.on('error', () => abort.abort());
  });

  return {
    wss,
    handleUpgrade(req, socket, head) {
      // An unparseable target is no path of this server's: the caller refuses the upgrade.
      const pathname = requestUrl(req)?.pathname.replace(/\/+$/, '');
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

/**
 * One pre-encoded JSON text payload per event object: a commit's shared `changes` event is
 * stringified and UTF-8 encoded once, and the same Buffer goes to every socket (sent as a text
 * frame, so `ws` neither copies nor re-encodes it).
 */
const wsPayload = frameCache((event) => Buffer.from(JSON.stringify(event), 'utf8'));
const textFrame = { binary: false, compress: false, fin: true } as const;

async function serve(
  socket: WsSocket,
  text: string | null,
  fallbackToken: string | null,
  signal: AbortSignal,
  gateway: SyncGateway,
): Promise<void> {
  const { engine } = gateway;
  const frame = parseJsonFrame(text, subscribeFrame);
  const actor = await gateway.actor(frame.token ?? fallbackToken);
  // An outdated client hears 4426 before any other check of its frame (see handler.ts).
  gateway.checkSchemaVersion(frame.schemaVersion);
  const input = {
    since: frame.since,
    collections: frame.collections,
    lastEventId: frame.lastEventId,
    view: frame.view,
    verifyView: frame.verifyView,
    schemaVersion: frame.schemaVersion,
  };
  checkStreamRequest(engine, input);
  // A refused view closes with its code (4400, 4403) before any event.
  if (input.view) await engine.authorizeRead(actor, 'stream', input.collections, input.view);
  const transport = wsTransport(socket);
  const events = openLiveStream({ engine, actor, input, signal, face: 'ws', transport, gateway });
  for await (const event of events) {
    if (socket.readyState !== socket.OPEN) break;
    // Sent without waiting: the stream itself waits for a slow peer while catching up, and ends
    // with resync_required once `bufferedAmount` passes `stream.maxBufferedBytes` live.
    socket.send(wsPayload(event), textFrame);
    if (event.type === 'resync_required') {
      if (events.slow) transport.closeSlow!(gateway.limits.slowConsumerGraceMs);
      else socket.close(1000, 'resync_required');
      return;
    }
  }
  if (socket.readyState === socket.OPEN) socket.close(1000, 'stream ended');
}

/** Parses a first frame against `schema`; malformed JSON or a mismatch is a BAD_REQUEST naming the field. */
export function parseJsonFrame<T>(text: string | null, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    if (text === null) throw new Error('binary');
    value = JSON.parse(text);
  } catch {
    throw new SyncError(
      'BAD_REQUEST',
      'first frame must be a JSON text frame {"type":"subscribe",…}',
      [{ path: '', message: 'malformed JSON' }],
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues: SyncIssue[] = issuesFromZod(parsed.error.issues);
    throw new SyncError(
      'BAD_REQUEST',
      `invalid subscribe frame: ${issues[0]?.path || '(root)'}: ${issues[0]?.message}`,
      issues,
    );
  }
  return parsed.data;
}

/** Sends the gateway's answer as an error frame, then closes with 4000 + its status (or `code`). */
function refuse(
  socket: WsSocket,
  answer: ErrorAnswer,
  code?: number,
  extra?: FrameSocketOptions['errorFields'],
): void {
  if (socket.readyState !== socket.OPEN) return;
  const body = answer.body.error;
  socket.send(JSON.stringify({ type: 'error', ...extra?.(body), error: body }), () =>
    socket.close(code ?? closeCodeFor(answer.status), body.code),
  );
}
