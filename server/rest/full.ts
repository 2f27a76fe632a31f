/** `GET /sync/full`: one page of the current state as NDJSON, gzip when asked, written in ~64 KiB chunks. */
import type { FullDoc } from '../../shared/protocol.js';
import type { RestContext } from './context.js';
import { endpointParams, parseQuery, viewOf } from './params.js';
import { checkCollections } from './stream-input.js';

/** True when `Accept-Encoding` accepts gzip (a `q=0` refuses it). */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding!.trim() !== 'gzip' && coding!.trim() !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * Asks the engine for one page (bounded by `limit`) and streams it, one JSON line per document
 * batched into ~64 KiB chunks, so a page is never serialized as one big string. `X-Sync-Checkpoint` is the export's checkpoint
 * (the same on every page); `X-Sync-Cursor` asks for the next page and is absent on the last one.
 */
export async function handleFull({
  engine,
  actor,
  url,
  req,
  schemaVersion,
}: RestContext): Promise<Response> {
  const query = parseQuery(url, endpointParams(engine.limits).full);
  checkCollections(engine, query.collections as string[] | undefined);
  const page = await engine.full(actor, {
    collections: query.collections,
    cursor: query.cursor,
    limit: query.limit,
    view: viewOf(query),
    schemaVersion,
  });
  return ndjsonPage(
    ndjsonStream(page.docs),
    { 'x-sync-checkpoint': page.checkpoint },
    page.cursor,
    acceptsGzip(req.headers.get('accept-encoding')),
  );
}

/**
 * The 200 answer of one export page (both REST faces): the NDJSON `body`, `headers` (the
 * checkpoint), `X-Sync-Cursor` when there is a next page, gzip when `gzip`.
 */
export function ndjsonPage(
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string>,
  cursor: string | null | undefined,
  gzip: boolean,
): Response {
  const all = new Headers({
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    vary: 'Accept-Encoding',
    ...headers,
  });
  if (cursor) all.set('x-sync-cursor', cursor);
  if (gzip) {
    body = body.pipeThrough(
      new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
    all.set('content-encoding', 'gzip');
  }
  return new Response(body, { status: 200, headers: all });
}

/** Target size of one body chunk: NDJSON lines are batched up to about this many bytes. */
export const FULL_CHUNK_BYTES = 64 * 1024;

/**
 * A byte stream of one JSON line per document, batched into chunks of about `FULL_CHUNK_BYTES`
 * (so a page is a few large writes instead of one HTTP chunk per document), produced as the
 * consumer reads (backpressure-driven): the page is never serialized as one big string.
 * `line` maps a document to the JSON object of its line (default: the protocol's FullDoc line).
 */
export function ndjsonStream<T>(
  docs: T[],
  line: (doc: T) => unknown = fullDocLine as (doc: T) => unknown,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i >= docs.length) {
          controller.close();
          return;
        }
        let text = '';
        // String length (UTF-16 units) approximates the byte count closely enough for batching.
        while (i < docs.length && text.length < FULL_CHUNK_BYTES) {
          text += `${JSON.stringify(line(docs[i++]!))}\n`;
        }
        controller.enqueue(encoder.encode(text));
        if (i >= docs.length) controller.close();
      },
    },
    { highWaterMark: 1 },
  );
}

/** The protocol's NDJSON line for one document. */
function fullDocLine(doc: FullDoc) {
  return {
    collection: doc.collection,
    id: doc.id,
    data: doc.data,
    version: doc.version,
    deleted: doc.deleted,
  };
}
