/** What a client controls before any face runs — the request target, the Host header, the method — parsed without ever throwing; anything malformed is a 4xx answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { refuseUpgrade } from './ip-rate-limit.js';

/** A scheme at the start of a target: absolute-form (`http://host/path`). */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Parses a request target into a URL, never throwing: origin-form (`/path?query`, resolved against
 * `base`) and absolute-form `http:`/`https:` URLs parse; an absolute target whose host or port is
 * invalid (`http://[/`, `http://x:99999/`) or that carries userinfo (`https://a:b@host/`), another
 * scheme, the asterisk-form (`*`), the authority-form and anything else answer null.
 *
 * @example
 * parseRequestTarget('/sync/pull?since=1')?.pathname // '/sync/pull'
 * parseRequestTarget('http://[/') // null
 */
export function parseRequestTarget(
  target: string | undefined,
  base = 'http://localhost',
): URL | null {
  const t = target ?? '/';
  try {
    // Concatenated, not resolved: `//x/y` is a path here, not a protocol-relative URL to host x.
    if (t.startsWith('/')) return new URL(base + t);
    if (!ABSOLUTE_FORM.test(t)) return null;
    const url = new URL(t);
    // Userinfo in a request target is an error (RFC 9110 §4.2.4); a web Request refuses it too.
    return (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.username === '' &&
      url.password === ''
      ? url
      : null;
  } catch {
    return null;
  }
}

/** A `Host` value: a reg-name or IPv4 (RFC 3986 characters only) or a bracketed IPv6 literal, then an optional port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::([0-9]{0,5}))?$/;

/** Why the request's `Host` header is unusable (repeated, empty, malformed, port out of range), or null when it is fine or absent. */
export function hostProblem(req: IncomingMessage): string | null {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if (req.rawHeaders[i]!.toLowerCase() === 'host') count++;
  if (count > 1) return 'more than one Host header';
  const host = req.headers.host;
  if (host === undefined) return null; // an HTTP/1.0 request (Node itself refuses an HTTP/1.1 request without one)
  if (host === '') return 'empty Host header';
  const m = HOST.exec(host);
  if (!m || (m[1] !== undefined && m[1] !== '' && Number(m[1]) > 65535))
    return 'malformed Host header';
  try {
    new URL(`http://${host}/`);
  } catch {
    return 'malformed Host header';
  }
  return null;
}

/** Methods a web `Request` refuses to carry (and no face serves): answered 405. */
const UNSERVED_METHODS = /^(?:CONNECT|TRACE|TRACK)$/i;

/** A request refused before routing. */
export interface RequestProblem {
  status: 400 | 405;
  code: 'BAD_REQUEST' | 'METHOD_NOT_ALLOWED';
  message: string;
  /** The part of the request at fault (`url`, `host`, `method`), as an issue path. */
  path: string;
}

const parsed = new WeakMap<IncomingMessage, URL | null>();

/** The request's URL (origin `http://localhost`), parsed once per request and cached; null for a target `parseRequestTarget` refuses. */
export function requestUrl(req: IncomingMessage): URL | null {
  let url = parsed.get(req);
  if (url === undefined) {
    url = parseRequestTarget(req.url);
    parsed.set(req, url);
  }
  return url;
}

/** What is wrong with a request before any face reads it (bad target, bad Host, an unserved method), or null. */
export function requestProblem(req: IncomingMessage): RequestProblem | null {
  if (!requestUrl(req))
    return {
      status: 400,
      code: 'BAD_REQUEST',
      message: 'request target is neither a path nor an http(s) URL with a valid host',
      path: 'url',
    };
  const host = hostProblem(req);
  if (host) return { status: 400, code: 'BAD_REQUEST', message: host, path: 'host' };
  if (UNSERVED_METHODS.test(req.method ?? ''))
    return {
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      message: `${req.method} is not served`,
      path: 'method',
    };
  return null;
}

/** The usual JSON error body of a problem (`{ error: { code, message, issues } }`). */
export function problemBody(problem: RequestProblem): {
  error: { code: string; message: string; issues: { path: string; message: string }[] };
} {
  return {
    error: {
      code: problem.code,
      message: problem.message,
      issues: [{ path: problem.path, message: problem.message }],
    },
  };
}

/** Answers `problem` on an http response and closes the connection (the rest of the request is not read). */
export function answerProblem(res: ServerResponse, problem: RequestProblem): void {
  res.writeHead(problem.status, {
    'content-type': 'application/json; charset=utf-8',
    connection: 'close',
    ...(problem.status === 405 ? { allow: 'GET, HEAD, POST, OPTIONS' } : {}),
  });
  res.end(JSON.stringify(problemBody(problem)));
}

/** Answers `problem` on a socket that asked for an upgrade (before any handshake) and closes it. */
export function refuseUpgradeProblem(socket: Duplex, problem: RequestProblem): void {
  refuseUpgrade(
    socket,
    problem.status,
    problem.status === 405 ? 'Method Not Allowed' : 'Bad Request',
    problemBody(problem),
  );
}
