/** Reads a JSON request body within a byte limit: refuses by Content-Length first, then counts bytes as they arrive. */
import { SyncError } from '../../shared/errors.js';

/**
 * Parses the request's JSON body. Wrong content type → UNSUPPORTED_MEDIA_TYPE; a declared or
 * counted size above `maxBytes` → PAYLOAD_TOO_LARGE before the rest is read; empty or malformed
 * JSON → BAD_REQUEST.
 */
export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]*\+json$/.test(type)) {
    throw new SyncError(
      'UNSUPPORTED_MEDIA_TYPE',
      `content-type must be application/json (got ${type || 'none'})`,
      [{ path: 'content-type', message: 'must be application/json' }],
    );
  }
  const declared = req.headers.get('content-length');
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > maxBytes)
    throw tooLarge(maxBytes);
  const text = await readText(req, maxBytes);
  if (text.trim() === '')
    throw new SyncError('BAD_REQUEST', 'request body is empty (expected JSON)', [
      { path: '', message: 'empty body' },
    ]);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? error.message : 'invalid JSON';
    throw new SyncError('BAD_REQUEST', `malformed JSON body: ${detail}`, [
      { path: '', message: 'malformed JSON' },
    ]);
  }
}

async function readText(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Stop reading now: the rest of an oversized body is never buffered.
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SyncError('BAD_REQUEST', 'request body is not valid UTF-8', [
      { path: '', message: 'not UTF-8' },
    ]);
  }
}

function tooLarge(maxBytes: number): SyncError {
  return new SyncError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`, [
    { path: '', message: `at most ${maxBytes} bytes` },
  ]);
}
