/**
 * CORS for the one-port server: every face's answers carry the headers, and preflights are answered
 * before any face runs.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { allowedOrigin, type CorsOrigin } from '../rest/cors.js';

/** Response headers a browser script on an allowed origin may read (tRPC and REST alike). */
const EXPOSED =
  'X-Sync-Cursor, X-Sync-Checkpoint, Content-Encoding, Retry-After, ' +
  'X-Sync-Min-Schema-Version, X-Request-Id';

/** Request headers allowed when a preflight names none the server can echo. */
const DEFAULT_ALLOWED =
  'Authorization, Content-Type, Last-Event-ID, Accept-Encoding, X-Sync-Schema-Version, trpc-accept';

/**
 * A header list a preflight may ask for: names only, bounded (anything else gets the default list).
 */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

/** How long a browser may cache a preflight answer (seconds). */
const MAX_AGE = '600';

/**
 * Applies `cors` to one request: sets the allow-origin headers on `res` (kept by whatever the
 * face writes later) and answers a preflight (`OPTIONS` with `Access-Control-Request-Method`)
 * with 204. Returns true when it answered. Not allowed origins get no CORS headers (the browser
 * then refuses the answer); requests without `Origin` are left alone.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  cors: CorsOrigin | undefined,
): boolean {
  const origin = typeof req.headers.origin === 'string' ? req.headers.origin : null;
  const allowed = origin ? allowedOrigin(cors, origin) : null;
  if (!allowed) return false;
  res.setHeader('access-control-allow-origin', allowed);
  res.setHeader('access-control-expose-headers', EXPOSED);
  if (allowed !== '*') keepVaryOrigin(res);
  const method = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || typeof method !== 'string') return false;
  const asked = req.headers['access-control-request-headers'];
  const headers =
    typeof asked === 'string' && asked.length <= 1000 && HEADER_LIST.test(asked.trim())
      ? asked.trim()
      : DEFAULT_ALLOWED;
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
    'access-control-allow-headers': headers,
    'access-control-max-age': MAX_AGE,
    'content-length': '0',
  });
  res.end();
  return true;
}

/**
 * `Vary: Origin` on the answer, even when a face writes its own `Vary` (e.g. `Accept-Encoding`)
 * with `writeHead`.
 */
function keepVaryOrigin(res: ServerResponse): void {
  res.setHeader('vary', 'Origin');
  const writeHead = res.writeHead.bind(res) as (
    status: number,
    ...rest: unknown[]
  ) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const headers = rest.find(
      (r): r is OutgoingHttpHeaders => typeof r === 'object' && r !== null && !Array.isArray(r),
    );
    const key = headers && Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
    if (headers && key && !/\borigin\b/i.test(String(headers[key])))
      headers[key] = `${String(headers[key])}, Origin`;
    return writeHead(status, ...rest);
  }) as ServerResponse['writeHead'];
}

/**
 * `SYNC_CORS_ORIGINS` → the allowed origins: `*` for any, else a comma-separated list of
 * origins (`https://app.example.com,http://localhost:5173`); unset or empty → CORS off.
 * `fail` builds the error thrown for a malformed entry.
 */
export function parseCorsOrigins(
  value: string | undefined,
  fail: (message: string) => Error,
): CorsOrigin | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.includes('*')) {
    if (entries.length > 1)
      throw fail(`SYNC_CORS_ORIGINS: "*" allows every origin; give it alone, got "${value}"`);
    return true;
  }
  return entries.map((entry) => {
    let url: URL | null = null;
    try {
      url = new URL(entry);
    } catch {
      // reported below
    }
    if (
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.origin !== entry.replace(/\/$/, '')
    ) {
      throw fail(
        'SYNC_CORS_ORIGINS: expected "*" or origins like ' +
          'https://app.example.com,http://localhost:5173 (scheme, host and port, no path), ' +
          `got "${entry}"`,
      );
    }
    return url.origin;
  });
}
