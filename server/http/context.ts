/** Where the built-in servers find the caller's token: bearer header, tRPC connection params, or `?token=`. */
import type { IncomingMessage } from 'node:http';
import { requestUrl } from './request-target.js';

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return m ? m[1]! : null;
}

/**
 * The caller's token: `connectionParams.token` (WebSocket and SSE links), else the bearer
 * header, else `?token=` (browsers cannot set headers on WebSocket or EventSource).
 */
export function requestToken(req: IncomingMessage, connectionParams?: Record<string, string | undefined> | null): string | null {
  const fromParams = connectionParams?.token;
  if (typeof fromParams === 'string' && fromParams !== '') return fromParams;
  const fromHeader = bearerToken(req.headers.authorization);
  if (fromHeader) return fromHeader;
  const query = requestUrl(req)?.searchParams.get('token');
  return query || null;
}
