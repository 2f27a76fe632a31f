/** `GET /sync/stream` as Server-Sent Events: catch-up then live commits, ids are checkpoints, `Last-Event-ID` resumes. */
import { answerError } from '../gateway/errors.js';
import type { StreamEvent } from '../../shared/protocol.js';
import type { RestContext } from './context.js';
import { openLiveStream, type LiveStream, type LiveTransport } from '../live/slow-consumers.js';
import { frameCache } from './frames.js';
import { endpointParams, parseQuery, verifyViewOf, viewOf } from './params.js';
import { checkStreamRequest, type StreamRequest } from './stream-input.js';

const encoder = new TextEncoder();

/** One SSE frame: `changes` events carry the checkpoint as their id; others carry none (resume points stay put). */
export function sseFrame(event: StreamEvent | { type: 'error'; error: unknown }): string {
  const id = event.type === 'changes' ? `id: ${event.checkpoint}\n` : '';
  return `${id}event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Encoded SSE frame per event object: a commit's shared `changes` event is serialized once for all subscribers. */
const encodedFrame = frameCache((event) => encoder.encode(sseFrame(event)));

/**
 * Opens the engine's stream for the actor and writes each event as it comes into the body, whose
 * queue holds at most about `stream.maxBufferedBytes` (the adapter writes it out as fast as the
 * client takes bytes). While catching up the stream waits for a slow client; live, a client whose
 * queue is past the bound gets `resync_required` and the body ends (or errors after
 * `stream.slowConsumerGraceMs` if even that is not taken, so the adapter drops the connection).
 * It also stops when the client goes away (request signal or body cancelled), after
 * `resync_required`, or after an `error` event.
 */
export async function handleSse({
  engine,
  gateway,
  report,
  actor,
  req,
  url,
  schemaVersion,
}: RestContext): Promise<Response> {
  const query = parseQuery(url, endpointParams(engine.limits).stream);
  const input: StreamRequest = {
    since: query.since as string | undefined,
    collections: query.collections as string[] | undefined,
    lastEventId: req.headers.get('last-event-id') || (query.lastEventId as string | undefined),
    view: viewOf(query),
    verifyView: verifyViewOf(query),
    schemaVersion,
  };
  checkStreamRequest(engine, input);
  // A refused view (400/403) answers here, before the stream opens.
  await engine.authorizeRead(actor, 'stream', input.collections, input.view);
  const bound = gateway.limits.maxBufferedBytes;
  const abort = new AbortController();
  const stop = () => abort.abort();
  req.signal.addEventListener('abort', stop, { once: true });
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** Resolves the waiter of `drained()` when the adapter took bytes (the body asked for more). */
  let pulled: (() => void) | null = null;
  const transport: LiveTransport = {
    connection: {},
    buffered: () => (controller ? bound - (controller.desiredSize ?? bound) : 0),
    drained: () => new Promise<void>((resolve) => (pulled = resolve)),
    cut: () => {
      try {
        controller?.error(new Error('slow consumer'));
      } catch {
        // already closed
      }
      void finish();
    },
  };
  let events: LiveStream;
  try {
    // Refusals (rate limit, live-connection caps, credentials) answer here, before the 200.
    events = openLiveStream({
      engine,
      actor,
      input,
      signal: abort.signal,
      face: 'sse',
      transport,
      gateway,
    });
  } catch (error) {
    req.signal.removeEventListener('abort', stop);
    throw error;
  }
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    req.signal.removeEventListener('abort', stop);
    abort.abort();
    pulled?.();
    await events.return(undefined).catch(() => undefined);
  };
  const end = (c: ReadableStreamDefaultController<Uint8Array>) => {
    try {
      c.close();
    } catch {
      // cancelled or errored meanwhile
    }
  };
  /** After a slow consumer's resync frame: end once the client took the queue, or error it after the grace time. */
  const endSlow = async (c: ReadableStreamDefaultController<Uint8Array>) => {
    const deadline = Date.now() + gateway.limits.slowConsumerGraceMs;
    while (
      c.desiredSize !== null &&
      c.desiredSize < bound &&
      Date.now() < deadline &&
      !abort.signal.aborted
    ) {
      await Promise.race([
        transport.drained(),
        new Promise((r) => setTimeout(r, Math.max(0, Math.min(250, deadline - Date.now())))),
      ]);
    }
    if (c.desiredSize !== null && c.desiredSize < bound && !abort.signal.aborted) transport.cut();
    else end(c);
  };
  const pump = async (c: ReadableStreamDefaultController<Uint8Array>) => {
    try {
      for (;;) {
        const next = await events.next();
        if (next.done || abort.signal.aborted) break;
        c.enqueue(encodedFrame(next.value));
        if (next.value.type === 'resync_required') {
          if (events.slow) return await endSlow(c);
          break;
        }
      }
      end(c);
    } catch (error) {
      // The gateway's table: a SyncError keeps its code; anything else is INTERNAL with a request
      // id, reported once (the 200 is long gone, so the id travels in the error event).
      const body = answerError(error, `GET ${url.pathname}`, report).body.error;
      if (!abort.signal.aborted) {
        try {
          c.enqueue(encoder.encode(sseFrame({ type: 'error', error: body })));
        } catch {
          // cancelled meanwhile
        }
      }
      end(c);
    } finally {
      await finish();
    }
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        c.enqueue(encoder.encode(`retry: 2000\n: stream open\n\n`));
        void pump(c);
      },
      pull() {
        const wake = pulled;
        pulled = null;
        wake?.();
      },
      async cancel() {
        await finish();
      },
    },
    { highWaterMark: bound, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
}
