/** `createFastapiCompatHandler`: the fastapi-offline-sync wire face as one web-standard `(Request) => Promise<Response>`. */
import type { Authenticate } from '../../auth/authenticate.js';
import type { SyncEngine } from '../../engine/types.js';
import { authenticateToken, bearerToken } from '../../gateway/auth.js';
import { answerError, answerResponse, jsonResponse } from '../../gateway/errors.js';
import { createSyncGateway, type SyncGateway } from '../../gateway/gateway.js';
import type { TransportLimits } from '../../gateway/limits.js';
import { reportFor, type RequestOnError } from '../../gateway/on-error.js';
import { createRouter } from '../../gateway/router.js';
import type { RestHandler } from '../../rest/handler.js';
import { withDetail } from './errors.js';
import { handleCompatFull } from './full.js';
import { createFastapiCompatOpenApi } from './openapi.js';
import { handleCompatPull } from './pull.js';
import { handleCompatPush } from './push.js';
import { compatDefaultViews, type CompatVisibility } from './visibility.js';
import { SyncError } from '../../../shared/errors.js';

/** Options of `createFastapiCompatHandler`. */
export interface FastapiCompatHandlerOptions {
  /** The sync engine the endpoints call (the same one the tRPC and REST faces use). */
  engine: SyncEngine;
  /** Turns the bearer token into an actor; `null` answers 401. */
  authenticate: Authenticate;
  /** Prefix the endpoints live under, without a trailing slash. @default '' */
  basePath?: string;
  /** The gateway to run over (shared live caps and reporting with other faces). @default one of its own */
  gateway?: SyncGateway;
  /** Transport limits of its own gateway (`maxBodyBytes`, URL and query bounds). @default the engine's forwarded values, then the defaults */
  limits?: Partial<TransportLimits>;
  /**
   * Told of unexpected (500) failures once, with the request id the client was answered; the
   * client only sees `INTERNAL` and that id. The one shape `(info: UnexpectedError) => void`; the
   * older `(error, req, requestId)` (three declared parameters) still works. @default the gateway's (one JSON line on stderr)
   */
  onError?: RequestOnError;
  /**
   * What each user sees: `all` (every document of the scope the engine's default views allow), or
   * `user`, fastapi-offline-sync's per-user visibility: only the documents the user last wrote,
   * served through the engine's `writer` rules (one per collection, e.g. `writerRules(schema)`); a
   * document another user overwrites leaves the view (a `delete` on the wire). @default 'all'
   */
  visibility?: CompatVisibility;
}

type Run = (
  engine: SyncEngine,
  req: Request,
  url: URL,
  authed: () => ReturnType<typeof authenticateToken>,
) => Promise<Response> | Response;

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
  const { engine } = options;
  const gateway =
    options.gateway ??
    createSyncGateway({
      engine,
      authenticate: options.authenticate,
      limits: options.limits,
      who: 'createFastapiCompatHandler',
    });
  const defaultViews = compatDefaultViews(engine, options.visibility);
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  let openapi: string | undefined;
  const route = createRouter<Run>(
    {
      '/sync/push': {
        POST: async (e, req, _url, authed) =>
          handleCompatPush(
            e,
            await authed(),
            req,
            gateway.limits.maxBodyBytes,
            defaultViews !== undefined,
          ),
      },
      '/sync/pull': {
        GET: async (e, _req, url, authed) => handleCompatPull(e, await authed(), url, defaultViews),
      },
      '/sync/full': {
        GET: async (e, req, url, authed) =>
          handleCompatFull(e, await authed(), url, req, defaultViews),
      },
      '/openapi.json': {
        GET: () => {
          openapi ??= JSON.stringify(
            createFastapiCompatOpenApi({
              limits: { ...engine.limits, ...gateway.limits },
              basePath: base,
            }),
          );
          return new Response(openapi, {
            headers: { 'content-type': 'application/json; charset=utf-8' },
          });
        },
      },
    },
    base,
  );
  return async function fastapiCompatHandler(req: Request): Promise<Response> {
    let op = `${req.method} ?`;
    const report = options.onError ? reportFor(options.onError, req) : gateway.onError;
    try {
      const url = new URL(req.url);
      op = `${req.method} ${url.pathname}`;
      const tooLong = gateway.checkTarget(url.pathname + url.search);
      if (tooLong) return answerResponse(tooLong, withDetail);
      const matched = route(req.method, url.pathname);
      if (matched.kind === 'not-found')
        throw new SyncError('NOT_FOUND', `no endpoint at ${url.pathname}`, [
          { path: 'url', message: 'unknown path' },
        ]);
      // The compat face answers no CORS preflight: OPTIONS is a method it does not take.
      if (matched.kind !== 'endpoint') {
        const allow = matched.kind === 'preflight' ? matched.methods.join(', ') : matched.allow;
        const res = jsonResponse(
          405,
          {
            detail: `${req.method} is not allowed on ${url.pathname} (use ${allow})`,
            error: {
              code: 'METHOD_NOT_ALLOWED',
              message: `${req.method} is not allowed (use ${allow})`,
              issues: [{ path: 'method', message: `expected ${allow}` }],
            },
          },
          { allow },
        );
        return res;
      }
      const run = matched.endpoint;
      const token = bearerToken(req.headers.get('authorization'));
      return await run(engine, req, url, () =>
        authenticateToken(gateway.authenticate, token, report),
      );
    } catch (error) {
      return answerResponse(answerError(error, op, report), withDetail);
    }
  };
}
