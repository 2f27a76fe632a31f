/** Where the built-in servers find the caller's token: bearer header, tRPC connection params, or `?token=`. */
import type { IncomingMessage } from 'node:http';
import { bearerToken } from '../gateway/auth.js';
import { requestUrl } from './request-target.js';

export { bearerToken };

/**
 * The caller's token: `connectionParams.token` (WebSocket and SSE links), else the bearer
 * header, else `?token=` (browsers cannot set headers on WebSocket or EventSource).
 */
export function requestToken(
  req: IncomingMessage,
  connectionParams?: Record<string, string | undefined> | null,
): string | null {
  const fromParams = connectionParams?.token;
  if (typeof fromParams === 'string' && fromParams !== '') return fromParams;
  const fromHeader = bearerToken(req.headers.authorization);
  if (fromHeader) return fromHeader;
  const query = requestUrl(req)?.searchParams.get('token');
  return query || null;
}
