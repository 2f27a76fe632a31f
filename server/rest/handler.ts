/**
 * `createRestHandler`: the REST face as one web-standard `(Request) => Promise<Response>`, over the
 * gateway.
 */
import type { Authenticate } from '../auth/authenticate.js';
import type { SyncEngine } from '../engine/types.js';
import { authenticateToken, bearerToken } from '../gateway/auth.js';
import { answerError, answerResponse } from '../gateway/errors.js';
import { createSyncGateway, type SyncGateway } from '../gateway/gateway.js';
import type { TransportLimits } from '../gateway/limits.js';
import { reportFor, type RequestOnError } from '../gateway/on-error.js';
import { createRouter } from '../gateway/router.js';
import type { RestContext } from './context.js';
import { preflight, withCors, type CorsOrigin } from './cors.js';
import { errorResponse, jsonResponse } from './errors.js';
import { handleFull } from './full.js';
import { createOpenApiDocument } from './openapi.js';
import { handlePull } from './pull.js';
import { handlePush } from './push.js';
import { urlLimitResponse } from './params.js';
import { requestSchemaVersion } from './schema-version.js';
import { handleSse } from './sse.js';

/** Options of `createRestHandler`. */
export interface RestHandlerOptions {
  /** The sync engine the endpoints call. */
  engine: SyncEngine;
  /**
   * Turns the bearer token into an actor; `null` answers 401 (see the gateway's token → actor
   * rule).
   */
  authenticate: Authenticate;
  /**
   * The gateway to run over (shared live caps and reporting with other faces). When given, its
   * limits and `onError` apply. @default a gateway of its own from `engine`, `authenticate`,
   * `limits`, `onError`
   */
  gateway?: SyncGateway;
  /**
   * Transport limits (body, URL, query, live caps, slow-consumer bounds). @default the engine's
   * forwarded values, then the defaults
   */
  limits?: Partial<TransportLimits>;
  /** Prefix the endpoints live under (e.g. `/api`), without a trailing slash. @default '' */
  basePath?: string;
  /** CORS: `true` allows any origin, or a list / predicate of allowed origins. @default off */
  cors?: CorsOrigin | false;
  /**
   * Told of unexpected (500) failures once, with the request id the client was answered
   * (`error.requestId`, `X-Request-Id`); the client only sees `INTERNAL`. Takes the one shape
   * `(info: UnexpectedError, req) => void`; a function declaring three parameters is taken as the
   * older `(error, req, requestId)` form.
   * @default the gateway's (one JSON line on stderr)
   */
  onError?: RequestOnError;
}

/** A web-standard request handler (Fetch API), mountable in any runtime or framework. */
export type RestHandler = (req: Request) => Promise<Response>;

type Endpoint = { auth: boolean; run: (ctx: RestContext) => Promise<Response> | Response };

/**
 * Creates the REST face over an engine: push, pull, full (NDJSON), stream (SSE), health, OpenAPI.
 *
 * @example
 * const handler = createRestHandler({ engine, authenticate: jwtAuthenticator({ secret }) });
 * http.createServer(toNodeHandler(handler)).listen(3000, '127.0.0.1');
 * // or: export const GET = handler; export const POST = handler; (Next.js route handlers)
 */
export function createRestHandler(options: RestHandlerOptions): RestHandler {
  const { engine } = options;
  const gateway =
    options.gateway ??
    createSyncGateway({
      engine,
      authenticate: options.authenticate,
      limits: options.limits,
      who: 'createRestHandler',
    });
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  const cors = options.cors || undefined;
  let openapi: string | undefined;
  const route = createRouter<Endpoint>(
    {
      '/sync/push': { POST: { auth: true, run: handlePush } },
      '/sync/pull': { GET: { auth: true, run: handlePull } },
      '/sync/full': { GET: { auth: true, run: handleFull } },
      '/sync/stream': { GET: { auth: true, run: handleSse } },
      '/sync/health': {
        GET: { auth: false, run: () => jsonResponse(200, { ok: true, store: engine.store.kind }) },
      },
      '/openapi.json': {
        GET: {
          auth: false,
          run: () => {
            openapi ??= JSON.stringify(
              createOpenApiDocument({
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
    },
    base,
  );

  return async function restHandler(req: Request): Promise<Response> {
    const origin = req.headers.get('origin');
    let op = `${req.method} ?`;
    // Every unexpected failure of this request, a throwing `authenticate` included, is told here
    // once.
    const report = options.onError ? reportFor(options.onError, req) : gateway.onError;
    try {
      const url = new URL(req.url);
      op = `${req.method} ${url.pathname}`;
      const tooLong = urlLimitResponse(url.pathname + url.search, gateway);
      if (tooLong) return withCors(tooLong, cors, origin);
      const matched = route(req.method, url.pathname);
      if (matched.kind === 'not-found')
        return withCors(
          errorResponse('NOT_FOUND', `no endpoint at ${url.pathname}`, [
            { path: 'url', message: 'unknown path' },
          ]),
          cors,
          origin,
        );
      if (matched.kind === 'preflight') return preflight(matched.methods, cors, origin);
      if (matched.kind === 'method-not-allowed') {
        const { allow } = matched;
        return withCors(
          errorResponse(
            'METHOD_NOT_ALLOWED',
            `${req.method} is not allowed on ${url.pathname} (use ${allow})`,
            [{ path: 'method', message: `expected ${allow}` }],
            { allow },
          ),
          cors,
          origin,
        );
      }
      const { endpoint } = matched;
      const actor = endpoint.auth
        ? await authenticateToken(
            gateway.authenticate,
            bearerToken(req.headers.get('authorization')),
            report,
          )
        : { userId: '', scopeId: '' };
      // Before any other check of the request: an outdated client must learn it needs an upgrade
      // (426),
      // not get a 400 for a collection or field its old schema still names.
      const schemaVersion = endpoint.auth ? requestSchemaVersion(req, url) : undefined;
      if (endpoint.auth) gateway.checkSchemaVersion(schemaVersion);
      return withCors(
        await endpoint.run({ engine, gateway, report, actor, req, url, schemaVersion }),
        cors,
        origin,
      );
    } catch (error) {
      return withCors(answerResponse(answerError(error, op, report)), cors, origin);
    }
  };
}
