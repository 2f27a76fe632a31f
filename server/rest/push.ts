/** `POST /sync/push`: a JSON batch of changes in, the per-change outcomes out. */
import type { RestContext } from './context.js';
import { badParam, jsonResponse } from './errors.js';
import { readJsonBody } from './body.js';

/** Reads the body within `engine.limits.maxBodyBytes` and hands it to `engine.push` (which validates it). */
export async function handlePush({ engine, actor, req, url }: RestContext): Promise<Response> {
  if ([...url.searchParams.keys()].length > 0) {
    throw badParam([...url.searchParams.keys()][0]!, 'unknown query parameter (push takes none)');
  }
  const body = await readJsonBody(req, engine.limits.maxBodyBytes);
  return jsonResponse(200, await engine.push(actor, body));
}
