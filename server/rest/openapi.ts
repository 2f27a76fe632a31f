/** The OpenAPI 3.1 document of the REST face, built from the shared zod schemas and the engine's limits. */
import type { SyncLimits } from '../engine/types.js';
import { endpointParams, type ParamSpec } from './params.js';
import { componentSchemas, paramSchema } from './schemas.js';

/** Options of `createOpenApiDocument`. */
export interface OpenApiOptions {
  /** Limits to document (the engine's). @default the engine defaults */
  limits?: Partial<SyncLimits>;
  /** Prefix the endpoints are mounted under, e.g. `/api`. @default '' */
  basePath?: string;
  /** `info.title`. @default 'trpc-offline-sync REST API' */
  title?: string;
  /** `info.version`. @default '1' */
  version?: string;
  /** Server URLs to list. @default none (relative to the document) */
  servers?: string[];
}

const DEFAULT_LIMITS = {
  pullDefaultLimit: 500,
  pullMaxLimit: 1000,
  fullDefaultLimit: 1000,
  fullMaxLimit: 10000,
  maxBodyBytes: 16 * 1024 * 1024,
};

/** An OpenAPI 3.1 document, as JSON. */
export type OpenApiDocument = Record<string, unknown>;
type Doc = OpenApiDocument;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Doc) => ({ 'application/json': { schema } });
const errorRef = (name: string) => ({ $ref: `#/components/responses/${name}` });
const security = [{ bearerAuth: [] }];

const retryAfter = {
  'Retry-After': {
    description: 'Seconds until a retry can succeed.',
    schema: { type: 'integer', minimum: 1 },
  },
};
const minSchemaVersion = {
  'X-Sync-Min-Schema-Version': {
    description: 'The oldest client schema version this server accepts.',
    schema: { type: 'integer', minimum: 1 },
  },
};
/** The header every sync request may carry (a protocol extension; see docs/rest.md). */
const schemaVersionHeader: Doc = {
  name: 'X-Sync-Schema-Version',
  in: 'header',
  required: false,
  description:
    "The client's schema version (`defineSyncSchema(…, { version })`). A server with a minimum answers 426 UPGRADE_REQUIRED to an older client before anything is read or written; absent: allowed unless the server requires a version.",
  schema: { type: 'integer', minimum: 1 },
};

/** Standard error responses (status, description, headers), every one with the `{ error: { code, message, issues } }` body. */
const ERROR_RESPONSES: Record<string, [string, string, Doc?]> = {
  BadRequest: [
    '400',
    'Bad input (BAD_REQUEST): malformed JSON, invalid field or query parameter; `issues` names each field.',
  ],
  Unauthorized: ['401', 'Missing or invalid bearer token (UNAUTHORIZED).'],
  Forbidden: ['403', 'The actor may not do this (FORBIDDEN).'],
  NotFound: ['404', 'No such endpoint (NOT_FOUND).'],
  MethodNotAllowed: ['405', 'Known path, wrong method (METHOD_NOT_ALLOWED).'],
  ResyncRequired: [
    '409',
    'The checkpoint is older than the retained history (RESYNC_REQUIRED): rebuild with /sync/full.',
  ],
  ClientIdConflict: [
    '409',
    "CLIENT_ID_CONFLICT: this client id's ledger holds other changes under mutation ids of this push (the device's data was copied from another device, e.g. a restored backup; `issues` name each id), or belongs to another user (`issues` name `clientId`). Nothing was applied. `recorded` lists the push's mutation ids already held as these very changes (settle them as done). Take a new client id, renumber the other changes from 1 under it, and send them again.",
  ],
  PayloadTooLarge: ['413', 'Body, batch or document too large (PAYLOAD_TOO_LARGE).'],
  UnsupportedMediaType: ['415', 'The body is not application/json (UNSUPPORTED_MEDIA_TYPE).'],
  UriTooLong: [
    '414',
    'The URL is longer than `limits.maxUrlLength` (URI_TOO_LONG). Nothing was read or written.',
  ],
  TooManyRequests: [
    '429',
    'Over the per-user rate limit, or over the per-IP limit of the HTTP server (`ipRateLimit`, counted before authentication) (TOO_MANY_REQUESTS); `Retry-After` gives the seconds to wait. For a live stream also: the user already holds `limits.maxLiveConnectionsPerActor` live connections (no `Retry-After`: close one first). Nothing was read or written.',
    retryAfter,
  ],
  UpgradeRequired: [
    '426',
    "The client's schema version (X-Sync-Schema-Version) is older than the server accepts, or absent while required (UPGRADE_REQUIRED). Update the app; retrying cannot succeed. Nothing was read or written.",
    minSchemaVersion,
  ],
  Internal: ['500', 'Unexpected server failure (INTERNAL); no internals are disclosed.'],
};

function errors(...names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [ERROR_RESPONSES[n]![0], errorRef(n)]));
}

function parameters(specs: ParamSpec[]): Doc[] {
  return specs.map((s) => ({
    name: s.name,
    in: s.in,
    required: false,
    description: s.description,
    schema: paramSchema(s.schema),
  }));
}

/**
 * Builds the OpenAPI 3.1 document of every REST endpoint (push, pull, full, SSE stream, the raw
 * WebSocket described in `x-websocket`, health, the document itself).
 *
 * @example
 * const doc = createOpenApiDocument({ limits: engine.limits, basePath: '/api' });
 * await SwaggerParser.validate(doc);
 */
export function createOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const base = options.basePath ?? '';
  const params = endpointParams(limits);
  const commonErrors = [
    'Unauthorized',
    'Forbidden',
    'UriTooLong',
    'UpgradeRequired',
    'TooManyRequests',
    'Internal',
  ];
  const paths: Record<string, Doc> = {
    [`${base}/sync/push`]: {
      post: {
        operationId: 'push',
        summary: 'Apply a batch of changes',
        description: `Each change carries a client mutation id; a retried change (the same change under the same id, from the user the client id belongs to) is answered \`duplicate\` with its original outcome; any other change under a recorded id answers 409 CLIENT_ID_CONFLICT. Mutation ids may reach at most \`limits.maxMutationIdGap\` past the client's last recorded one. Body at most ${limits.maxBodyBytes} bytes.`,
        security,
        parameters: [schemaVersionHeader],
        requestBody: { required: true, content: json(ref('PushInput')) },
        responses: {
          '200': { description: 'Outcome of every change', content: json(ref('PushResponse')) },
          ...errors(
            'BadRequest',
            'ClientIdConflict',
            'PayloadTooLarge',
            'UnsupportedMediaType',
            ...commonErrors,
          ),
        },
      },
    },
    [`${base}/sync/pull`]: {
      get: {
        operationId: 'pull',
        summary: 'Changes after a checkpoint',
        description:
          'Whole commits only; each document at most once, in its latest state. Page with `checkpoint` while `hasMore` is true.',
        security,
        parameters: [...parameters(params.pull), schemaVersionHeader],
        responses: {
          '200': { description: 'A page of changes', content: json(ref('PullResponse')) },
          ...errors('BadRequest', 'ResyncRequired', ...commonErrors),
        },
      },
    },
    [`${base}/sync/full`]: {
      get: {
        operationId: 'full',
        summary: 'One page of a full export (NDJSON)',
        description:
          'One `FullDoc` JSON object per line, tombstones included. gzip-compressed when `Accept-Encoding` allows it. Follow `X-Sync-Cursor` until it is absent, then pull from `X-Sync-Checkpoint`.',
        security,
        parameters: [
          ...parameters(params.full),
          schemaVersionHeader,
          {
            name: 'Accept-Encoding',
            in: 'header',
            required: false,
            description: '`gzip` compresses the page.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'A page of documents, one JSON object (FullDoc) per line',
            headers: {
              'X-Sync-Checkpoint': {
                required: true,
                description:
                  'Pull from here once every page is read; the same on every page of one export.',
                schema: { type: 'string' },
              },
              'X-Sync-Cursor': {
                required: false,
                description: 'Pass as `cursor` for the next page; absent on the last page.',
                schema: { type: 'string' },
              },
              'Content-Encoding': {
                required: false,
                description: '`gzip` when compressed.',
                schema: { type: 'string', enum: ['gzip'] },
              },
            },
            content: {
              'application/x-ndjson': {
                schema: { type: 'string', description: 'Newline-delimited FullDoc objects' },
                'x-item-schema': ref('FullDoc'),
              },
            },
          },
          ...errors('BadRequest', ...commonErrors),
        },
      },
    },
    [`${base}/sync/stream`]: {
      get: {
        operationId: 'stream',
        summary: 'Live changes as Server-Sent Events',
        description:
          'Sends every commit after `since` (catch-up), then each new commit. Events: `changes` (id = checkpoint), `heartbeat`, `resync_required` (then the server closes), `error`. `Last-Event-ID` (or `lastEventId`) resumes without gaps or duplicates. A client that stops reading is sent `resync_required` once the server holds more than `stream.maxBufferedBytes` for it, and the stream ends (cut after `stream.slowConsumerGraceMs` if even that is not read). More than `limits.maxLiveConnectionsPerActor` live streams of one user answer 429 TOO_MANY_REQUESTS. The same path accepts a WebSocket upgrade; see `x-websocket`.',
        security,
        parameters: [...parameters(params.stream), schemaVersionHeader],
        responses: {
          '200': {
            description: 'An SSE stream; each `data:` is a StreamEvent as JSON',
            content: {
              'text/event-stream': {
                schema: { type: 'string' },
                'x-item-schema': ref('StreamEvent'),
              },
            },
          },
          ...errors('BadRequest', ...commonErrors),
        },
      },
      'x-websocket': {
        description:
          'WS upgrade on this path. First client frame: {"type":"subscribe","since":"…","collections":["…"],"token":"…","schemaVersion":3} (token may instead be given as ?token= or Authorization). Server frames: StreamEvent JSON objects. A bad first frame gets {"type":"error","error":{code,message,issues}} and a close code 4000 + HTTP status (4400, 4401, 4403, 4408 timeout, 4426 schema version too old, 4429 rate limit or more than limits.maxLiveConnectionsPerActor live connections); after resync_required the server closes with 1000, or with 4409 when this client fell behind (a slow consumer: more than stream.maxBufferedBytes waiting to be sent; resume from the last checkpoint received). When the token expires during the stream the server sends {"type":"error","error":{"code":"UNAUTHORIZED",…}} and closes with 4401: reconnect with a fresh token and lastEventId.',
        clientFrame: {
          type: 'object',
          properties: {
            type: { const: 'subscribe' },
            since: { type: ['string', 'null'] },
            collections: { type: 'array', items: { type: 'string' } },
            token: { type: 'string' },
            lastEventId: { type: ['string', 'null'] },
            schemaVersion: { type: ['integer', 'null'], minimum: 1 },
          },
          required: ['type'],
        },
        serverFrame: ref('StreamEvent'),
        errorFrame: {
          type: 'object',
          properties: {
            type: { const: 'error' },
            error: { $ref: '#/components/schemas/ErrorBody/properties/error' },
          },
        },
      },
    },
    [`${base}/sync/health`]: {
      get: {
        operationId: 'health',
        summary: 'Liveness and store kind',
        security: [],
        responses: {
          '200': { description: 'Healthy', content: json(ref('HealthResponse')) },
          ...errors('Internal'),
        },
      },
    },
    [`${base}/openapi.json`]: {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        security: [],
        responses: {
          '200': { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) },
        },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'trpc-offline-sync REST API',
      version: options.version ?? '1',
      description:
        'Offline-first sync over REST, SSE and WebSocket. Every error answers `{ "error": { "code", "message", "issues" } }`.',
    },
    ...(options.servers ? { servers: options.servers.map((url) => ({ url })) } : {}),
    security,
    paths,
    components: {
      schemas: componentSchemas(),
      responses: Object.fromEntries(
        Object.entries(ERROR_RESPONSES).map(([name, [, description, headers]]) => [
          name,
          { description, content: json(ref('ErrorBody')), ...(headers ? { headers } : {}) },
        ]),
      ),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: "The token the server's authenticate hook accepts (e.g. a JWT).",
        },
      },
    },
  };
}
