/** `POST /sync/push`: a JSON batch of changes in, the per-change outcomes out. */
import type { RestContext } from './context.js';
import { badParam, jsonResponse } from './errors.js';
import { readJsonBody } from './body.js';

/** Reads the body within `gateway.limits.maxBodyBytes` and hands it to `engine.push` (which validates it). */
export async function handlePush({
  engine,
  gateway,
  actor,
  req,
  url,
  schemaVersion,
}: RestContext): Promise<Response> {
  const unknown = [...url.searchParams.keys()].find((k) => k !== 'schemaVersion');
  if (unknown !== undefined)
    throw badParam(unknown, 'unknown query parameter (push takes only schemaVersion)');
  const body = await readJsonBody(req, gateway.limits.maxBodyBytes);
  // The header's version (checked already) stands for the whole request, body field or not.
  const input =
    schemaVersion !== undefined && typeof body === 'object' && body !== null && !Array.isArray(body)
      ? { ...(body as object), schemaVersion }
      : body;
  return jsonResponse(200, await engine.push(actor, input));
}
