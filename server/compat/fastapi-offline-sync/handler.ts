/** `createFastapiCompatHandler`: the fastapi-offline-sync wire face as one web-standard `(Request) => Promise<Response>`. */
import type { Authenticate } from '../../auth/authenticate.js';
import type { SyncEngine } from '../../engine/types.js';
import { authenticateToken, bearerToken } from '../../rest/auth.js';
import { jsonResponse } from '../../rest/errors.js';
import type { RestHandler } from '../../rest/handler.js';
import { compatErrorResponse } from './errors.js';
import { handleCompatFull } from './full.js';
import { createFastapiCompatOpenApi } from './openapi.js';
import { handleCompatPull } from './pull.js';
import { handleCompatPush } from './push.js';
import { compatDefaultViews, type CompatVisibility } from './visibility.js';
import { SyncError } from '../../../shared/errors.js';
import { logUnexpectedToStderr } from '../../unexpected.js';

/** Options of `createFastapiCompatHandler`. */
export interface FastapiCompatHandlerOptions {
  /** The sync engine the endpoints call (the same one the tRPC and REST faces use). */
  engine: SyncEngine;
  /** Turns the bearer token into an actor; `null` answers 401. */
  authenticate: Authenticate;
  /** Prefix the endpoints live under, without a trailing slash. @default '' */
  basePath?: string;
  /**
   * What each user sees: `all` (every document of the scope the engine's default views allow), or
   * `user`, fastapi-offline-sync's per-user visibility: only the documents the user last wrote,
   * served through the engine's `writer` rules (one per collection, e.g. `writerRules(schema)`); a
   * document another user overwrites leaves the view (a `delete` on the wire). @default 'all'
   */
  visibility?: CompatVisibility;
  /** Told of unexpected (500) failures with the request id the client was answered, for logs; the client only sees `INTERNAL` and that id. @default one JSON line on stderr */
  onError?: (error: unknown, req: Request, requestId: string) => void;
}

type Run = (engine: SyncEngine, req: Request, url: URL, authed: () => ReturnType<typeof authenticateToken>) => Promise<Response> | Response;

/**
 * Creates the fastapi-offline-sync face over an engine: `POST /sync/push`, `GET /sync/pull`,
 * `GET /sync/full` and `GET /openapi.json` (the WebSocket `/sync/stream` is
 * `createFastapiCompatWebSocketServer`). A client of that package whose base URL is
 * `http://HOST:PORT<basePath>` works unchanged.
 *
 * @example
 * const compat = createFastapiCompatHandler({ engine, authenticate, basePath: '/compat/fastapi-offline-sync' });
 * http.createServer(toNodeHandler(compat)).listen(3000, '127.0.0.1');
 */
export function createFastapiCompatHandler(options: FastapiCompatHandlerOptions): RestHandler {
  const { engine, authenticate } = options;
  const defaultViews = compatDefaultViews(engine, options.visibility);
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  let openapi: string | undefined;
  const report = options.onError ?? ((error: unknown, req: Request, requestId: string) => logUnexpectedToStderr({ requestId, op: `${req.method} ${new URL(req.url).pathname}`, error }));
  const routes: Record<string, Record<string, Run>> = {
    '/sync/push': { POST: async (e, req, _url, authed) => handleCompatPush(e, await authed(), req, defaultViews !== undefined) },
    '/sync/pull': { GET: async (e, _req, url, authed) => handleCompatPull(e, await authed(), url, defaultViews) },
    '/sync/full': { GET: async (e, req, url, authed) => handleCompatFull(e, await authed(), url, req, defaultViews) },
    '/openapi.json': {
      GET: () => {
        openapi ??= JSON.stringify(createFastapiCompatOpenApi({ limits: engine.limits, basePath: base }));
        return new Response(openapi, { headers: { 'content-type': 'application/json; charset=utf-8' } });
      },
    },
  };
  return async function fastapiCompatHandler(req: Request): Promise<Response> {
    try {
      const url = new URL(req.url);
      const path = url.pathname.startsWith(`${base}/`) ? url.pathname.slice(base.length).replace(/\/+$/, '') : null;
      const methods = path !== null ? routes[path] : undefined;
      if (!methods) throw new SyncError('NOT_FOUND', `no endpoint at ${url.pathname}`, [{ path: 'url', message: 'unknown path' }]);
      const run = methods[req.method === 'HEAD' ? 'GET' : req.method];
      if (!run) {
        const allow = Object.keys(methods).join(', ');
        const res = jsonResponse(405, { detail: `${req.method} is not allowed on ${url.pathname} (use ${allow})`, error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed (use ${allow})`, issues: [{ path: 'method', message: `expected ${allow}` }] } }, { allow });
        return res;
      }
      return await run(engine, req, url, () => authenticateToken(authenticate, bearerToken(req.headers.get('authorization'))));
    } catch (error) {
      return await compatErrorResponse(error, (e, requestId) => report(e, req, requestId));
    }
  };
}
