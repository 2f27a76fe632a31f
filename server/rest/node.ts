/** Node `http` adapter: turns an IncomingMessage into a web `Request`, and streams the `Response` back honouring backpressure. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseRequestTarget, problemBody, requestProblem } from '../http/request-target.js';
import { answerError, answerResponse } from '../gateway/errors.js';
import { logUnexpectedToStderr, type UnexpectedError } from '../unexpected.js';

/** A Node `http` request listener. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Options of `toNodeHandler`. */
export interface NodeHandlerOptions {
  /** Told of a failure the handler did not answer itself (answered 500 with a request id). @default one JSON line on stderr */
  onError?: (info: UnexpectedError) => void;
}

/**
 * Wraps a web-standard handler for `http.createServer`, Express, Fastify (`reply.raw`) and the
 * like. The request body is streamed (the handler decides how much to read); the response body
 * is written chunk by chunk, waiting for `drain`; a client that goes away aborts `req.signal`.
 *
 * @example
 * const server = http.createServer(toNodeHandler(createRestHandler({ engine, authenticate })));
 * server.listen(3000, '127.0.0.1');
 */
export function toNodeHandler(
  handler: (req: Request) => Promise<Response>,
  options: NodeHandlerOptions = {},
): NodeHandler {
  const report = options.onError ?? logUnexpectedToStderr;
  return async function nodeHandler(req, res) {
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    // A target, Host or method a web Request cannot carry is the client's fault: 4xx, never a throw.
    const problem = requestProblem(req);
    let response: Response;
    if (problem) {
      response = new Response(JSON.stringify(problemBody(problem)), {
        status: problem.status,
        headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close' },
      });
    } else {
      try {
        response = await handler(toRequest(req, abort.signal));
      } catch (error) {
        // The gateway's table: reported once (not again when the face already did), with an id.
        response = answerResponse(
          answerError(
            error,
            `${req.method} ${parseRequestTarget(req.url)?.pathname ?? '?'}`,
            report,
          ),
        );
      }
    }
    // Never rejects: a response that cannot be written (the client left, a header Node refuses) drops the connection.
    await writeResponse(response, req, res, abort.signal).catch(() => res.destroy());
  };
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  // `requestProblem` vouched for both; the Host only names the origin the handler sees.
  const url =
    parseRequestTarget(req.url, `http://${req.headers.host || 'localhost'}`) ??
    parseRequestTarget(req.url)!;
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!name.startsWith(':')) headers.append(name, req.rawHeaders[i + 1]!);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(url, {
    method,
    headers,
    signal,
    ...(hasBody
      ? { body: Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>, duplex: 'half' }
      : {}),
  } as RequestInit);
}

async function writeResponse(
  response: Response,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body || req.method === 'HEAD') {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  // Streams (SSE) must reach the client before their first event.
  res.flushHeaders();
  const reader = (response.body as unknown as NodeReadableStream<Uint8Array>).getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  // A body that errors while the client is not reading (a live stream giving up on a slow
  // consumer) drops the connection instead of waiting for a drain that may never come.
  const errored = reader.closed.then(
    () => new Promise<never>(() => undefined),
    () => 'errored' as const,
  );
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      if (!res.write(value) && (await Promise.race([drainOrClose(res), errored])) === 'errored') {
        res.destroy();
        break;
      }
    }
  } catch {
    // The body failed mid-stream: end the response; the client sees a truncated stream.
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) await reader.cancel().catch(() => undefined);
    if (!res.writableEnded) res.end();
  }
}

/**
 * Waits until `res` drains or closes. Both `once` waits are cancelled after the race, so the
 * loser's listeners (`drain` or `close`, plus the `error` listener `once` adds) do not pile up
 * on the response over a long body.
 */
async function drainOrClose(res: ServerResponse): Promise<void> {
  const done = new AbortController();
  try {
    // An `error` event rejects: the caller ends the response.
    await Promise.race([
      once(res, 'drain', { signal: done.signal }),
      once(res, 'close', { signal: done.signal }),
    ]);
  } finally {
    done.abort();
  }
}
