/**
 * `WS /sync/stream` of the fastapi-offline-sync face: a subscribe frame in
 * (`{ type: "subscribe", since, collections, token? }`, or the token as `?token=`), then one frame
 * per change, heartbeats, and `{ type: "full_resync_required", collections }` followed by a close.
 */
import type { WsSocket as WebSocket } from '../../ws-types.js';
import { z } from 'zod';
import { collectionName, type StreamEvent } from '../../../shared/protocol.js';
import type { Authenticate } from '../../auth/authenticate.js';
import type { SyncEngine } from '../../engine/types.js';
import type { SyncGateway } from '../../gateway/gateway.js';
import type { TransportLimits } from '../../gateway/limits.js';
import type { OnUnexpectedError } from '../../gateway/request-id.js';
import { checkCollections } from '../../rest/stream-input.js';
import {
  createFrameSocketServer,
  parseJsonFrame,
  socketGateway,
  type RestWebSocketServer,
} from '../../rest/websocket.js';
import { resyncAnswer, usableSince } from './pull.js';
import { compatDefaultViews, type CompatVisibility } from './visibility.js';
import { toCompatChange } from './wire.js';
import { openLiveStream } from '../../live/slow-consumers.js';
import { wsTransport } from '../../live/transports.js';

/** Options of `createFastapiCompatWebSocketServer`. */
export interface FastapiCompatWebSocketOptions {
  engine: SyncEngine;
  authenticate: Authenticate;
  /** Path `handleUpgrade` accepts. @default '/sync/stream' */
  path?: string;
  /** Time to wait for the subscribe frame (`createSyncHttpServer` passes its `wsAuthTimeoutMs`). @default 10000 */
  subscribeTimeoutMs?: number;
  /** Largest client frame, refused by its header before anything is buffered (close 1009). @default 65536 */
  maxPayloadBytes?: number;
  /** The gateway to run over (shared live caps and reporting). @default one of its own from these options */
  gateway?: SyncGateway;
  /** Transport limits (live caps, slow-consumer bounds) of its own gateway. @default the engine's forwarded values, then the defaults */
  limits?: Partial<TransportLimits>;
  /** Told of each unexpected failure once (its error frame carries the request id). @default one JSON line on stderr */
  onError?: OnUnexpectedError;
  /** What each user sees (as `FastapiCompatHandlerOptions.visibility`). @default 'all' */
  visibility?: CompatVisibility;
}

/** The compat WebSocket face: attach `handleUpgrade` to a server's `upgrade` event (the same shape as the main raw WebSocket face). */
export type FastapiCompatWebSocketServer = RestWebSocketServer;

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
export function compatFrames(
  event: StreamEvent,
  engine: SyncEngine,
  collections: string[] | undefined,
): unknown[] {
  if (event.type === 'changes')
    return event.changes.map((c) => ({
      type: 'change',
      ...toCompatChange(c),
      last_seq: event.checkpoint,
    }));
  if (event.type === 'heartbeat') return [{ type: 'heartbeat', last_seq: event.checkpoint }];
  if (event.type === 'resync_required')
    return [
      { type: 'full_resync_required', collections: resyncAnswer(engine, collections).collections },
    ];
  return [];
}

/**
 * Creates the compat WebSocket server (`noServer`).
 *
 * @example
 * const ws = createFastapiCompatWebSocketServer({ engine, authenticate, path: '/compat/fastapi-offline-sync/sync/stream' });
 * server.on('upgrade', (req, socket, head) => { if (!ws.handleUpgrade(req, socket, head)) socket.destroy(); });
 */
export function createFastapiCompatWebSocketServer(
  options: FastapiCompatWebSocketOptions,
): FastapiCompatWebSocketServer {
  const gateway = socketGateway(options, 'createFastapiCompatWebSocketServer');
  const defaultViews = compatDefaultViews(options.engine, options.visibility);
  return createFrameSocketServer({
    report: gateway.onError,
    path: options.path ?? '/sync/stream',
    subscribeTimeoutMs: options.subscribeTimeoutMs,
    maxPayloadBytes: options.maxPayloadBytes,
    serve: (socket, text, fallbackToken, signal) =>
      serve(socket, text, fallbackToken, signal, gateway, defaultViews),
    errorFields: (error) => ({ detail: error.message }),
  });
}

async function serve(
  socket: WebSocket,
  text: string | null,
  fallbackToken: string | null,
  signal: AbortSignal,
  gateway: SyncGateway,
  defaultViews: { rule: string }[] | undefined,
): Promise<void> {
  const { engine } = gateway;
  const frame = parseJsonFrame(text, subscribeFrame);
  const actor = await gateway.actor(frame.token ?? fallbackToken);
  const collections = frame.collections ?? undefined;
  checkCollections(engine, collections);
  const send = (value: unknown) =>
    new Promise<void>((resolve, reject) =>
      socket.send(JSON.stringify(value), (err) => (err ? reject(err) : resolve())),
    );
  if (!usableSince(frame.since)) {
    await send(resyncAnswerFrame(engine, collections));
    socket.close(1000, 'full_resync_required');
    return;
  }
  // The same live bounds as the native faces (server/live): caps, and a client that stops reading
  // is told to resync once `stream.maxBufferedBytes` is held for it, then cut after the grace time.
  const events = openLiveStream({
    engine,
    actor,
    input: { since: frame.since, collections },
    signal,
    face: 'compat',
    transport: wsTransport(socket),
    gateway,
    defaultViews,
  });
  for await (const event of events) {
    if (socket.readyState !== socket.OPEN) break;
    for (const out of compatFrames(event, engine, collections)) socket.send(JSON.stringify(out));
    if (event.type === 'resync_required') {
      socket.close(1000, 'full_resync_required');
      if (events.slow)
        setTimeout(() => socket.terminate(), gateway.limits.slowConsumerGraceMs).unref();
      return;
    }
  }
  if (socket.readyState === socket.OPEN) socket.close(1000, 'stream ended');
}

function resyncAnswerFrame(engine: SyncEngine, collections: string[] | undefined) {
  return {
    type: 'full_resync_required',
    collections: resyncAnswer(engine, collections).collections,
  };
}
