/** `GET /sync/stream` as Server-Sent Events: catch-up then live commits, ids are checkpoints, `Last-Event-ID` resumes. */
import { SyncError } from '../../shared/errors.js';
import type { StreamEvent } from '../../shared/protocol.js';
import type { RestContext } from './context.js';
import { frameCache } from './frames.js';
import { endpointParams, parseQuery } from './params.js';
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
 * Opens the engine's stream for the actor and writes each event as it comes. The stream is read
 * only as fast as the client takes bytes; it stops when the client goes away (request signal or
 * body cancelled), after `resync_required`, or after an `error` event.
 */
export async function handleSse({ engine, actor, req, url, schemaVersion }: RestContext): Promise<Response> {
  const query = parseQuery(url, endpointParams(engine.limits).stream);
  const input: StreamRequest = {
    since: query.since as string | undefined,
    collections: query.collections as string[] | undefined,
    lastEventId: req.headers.get('last-event-id') || (query.lastEventId as string | undefined),
    schemaVersion,
  };
  checkStreamRequest(engine, input);
  await engine.authorizeRead(actor, 'stream', input.collections);
  const abort = new AbortController();
  const stop = () => abort.abort();
  req.signal.addEventListener('abort', stop, { once: true });
  const events = engine.stream(actor, input, abort.signal)[Symbol.asyncIterator]();
  let opened = false;
  let finished = false;
  const finish = async () => {
    if (finished) return;
    finished = true;
    req.signal.removeEventListener('abort', stop);
    abort.abort();
    await events.return?.().catch(() => undefined);
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!opened) {
        opened = true;
        controller.enqueue(encoder.encode(`retry: 2000\n: stream open\n\n`));
        return;
      }
      try {
        const next = await events.next();
        if (next.done || abort.signal.aborted) {
          await finish();
          controller.close();
          return;
        }
        controller.enqueue(encodedFrame(next.value));
        if (next.value.type === 'resync_required') {
          await finish();
          controller.close();
        }
      } catch (error) {
        const body = SyncError.is(error)
          ? error.toJSON().error
          : { code: 'INTERNAL', message: 'internal server error', issues: [] };
        if (!abort.signal.aborted) controller.enqueue(encoder.encode(sseFrame({ type: 'error', error: body })));
        await finish();
        controller.close();
      }
    },
    async cancel() {
      await finish();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    },
  });
}
