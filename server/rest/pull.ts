/** `GET /sync/pull`: changes after a checkpoint, whole commits only, as one JSON page. */
import type { RestContext } from './context.js';
import { jsonResponse } from './errors.js';
import { endpointParams, parseQuery, verifyViewOf, viewOf } from './params.js';
import { checkCollections } from './stream-input.js';

/** Parses `since`, `collections`, `limit` and the view, and answers `engine.pull`'s page. */
export async function handlePull({
  engine,
  actor,
  url,
  schemaVersion,
}: RestContext): Promise<Response> {
  const query = parseQuery(url, endpointParams(engine.limits).pull);
  checkCollections(engine, query.collections as string[] | undefined);
  const page = await engine.pull(actor, {
    since: query.since,
    collections: query.collections,
    limit: query.limit,
    view: viewOf(query),
    verifyView: verifyViewOf(query),
    schemaVersion,
  });
  return jsonResponse(200, page);
}
