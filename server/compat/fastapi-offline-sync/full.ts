/** `GET /sync/full` of the fastapi-offline-sync face: a page of current state as gzip NDJSON, `X-Sync-Cursor` and `X-Sync-LastSeq`. */
import type { Actor } from '../../../shared/protocol.js';
import type { ReadOptions, SyncEngine } from '../../engine/types.js';
import { acceptsGzip, ndjsonPage, ndjsonStream } from '../../rest/full.js';
import { endpointParams, parseQuery } from '../../rest/params.js';
import { checkCollections } from '../../rest/stream-input.js';
import { toCompatFullLine } from './wire.js';

/**
 * Streams one page, one `{ collection, doc_id, data }` line per document (tombstones included).
 * gzip unless the request's `Accept-Encoding` refuses it. `X-Sync-LastSeq` is the checkpoint to
 * pull from once every page is read; `X-Sync-Cursor` asks for the next page (absent on the last).
 */
export async function handleCompatFull(
  engine: SyncEngine,
  actor: Actor,
  url: URL,
  req: Request,
  defaultViews?: ReadOptions['defaultViews'],
): Promise<Response> {
  const query = parseQuery(url, endpointParams(engine.limits).full);
  checkCollections(engine, query.collections as string[] | undefined);
  const input = { collections: query.collections, cursor: query.cursor, limit: query.limit };
  const page = await engine.full(actor, input, defaultViews ? { defaultViews } : undefined);
  const encoding = req.headers.get('accept-encoding');
  return ndjsonPage(
    ndjsonStream(page.docs, toCompatFullLine),
    { 'x-sync-lastseq': page.checkpoint },
    page.cursor,
    encoding === null || acceptsGzip(encoding),
  );
}
