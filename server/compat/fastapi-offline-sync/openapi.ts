/** The OpenAPI 3.1 document of the fastapi-offline-sync face, its schemas generated from zod like the main one. */
import { z } from 'zod';
import { errorBody } from '../../../shared/protocol.js';
import type { SyncLimits } from '../../engine/types.js';
import { DEFAULT_LIMITS } from '../../engine/options.js';
import { endpointParams, type ParamSpec } from '../../rest/params.js';
import { paramSchema, registrySchemas } from '../../rest/schemas.js';
import { compatPushBody } from './wire.js';
import type { OpenApiDocument } from '../../rest/openapi.js';

/** Options of `createFastapiCompatOpenApi`. */
export interface FastapiCompatOpenApiOptions {
  /** Limits to document (the engine's). @default the engine defaults */
  limits?: Partial<SyncLimits>;
  /** Prefix the endpoints are mounted under. @default '' */
  basePath?: string;
}

const version = z.string().describe('HLC version of the document after this change');
const changeOut = z.object({
  version,
  collection: z.string(),
  doc_id: z.string(),
  operation: z.enum(['upsert', 'delete']),
  data: z.record(z.string(), z.unknown()).nullable(),
});
const pushResponse = z.object({
  results: z.array(
    z.object({
      doc_id: z.string(),
      status: z.enum(['accepted', 'conflict_resolved', 'rejected']),
      new_version: z.string().nullable(),
      error: z.string().optional(),
      data: z
        .record(z.string(), z.unknown())
        .nullable()
        .optional()
        .describe('The stored document when it differs from what was sent'),
    }),
  ),
});
const pullResponse = z.union([
  z.object({
    changes: z.array(changeOut),
    last_seq: z.string().describe('Opaque checkpoint: pass back as `since`'),
    has_more: z.boolean(),
  }),
  z.object({ full_resync_required: z.literal(true), collections: z.array(z.string()) }),
]);
const fullLine = z.object({
  collection: z.string(),
  doc_id: z.string(),
  data: z.record(z.string(), z.unknown()),
  deleted: z.boolean().optional(),
  version: z.string(),
});
const compatError = z.object({ detail: z.string() }).extend(errorBody.shape);

type Doc = OpenApiDocument;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Doc) => ({ 'application/json': { schema } });
const err = (description: string) => ({ description, content: json(ref('ErrorBody')) });

function schemas(): Record<string, Doc> {
  return registrySchemas(
    { PushRequest: compatPushBody },
    {
      PushResponse: pushResponse,
      PullResponse: pullResponse,
      FullLine: fullLine,
      ErrorBody: compatError,
    },
  );
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
 * Builds the OpenAPI 3.1 document of the compat face (push, pull, full; the WebSocket stream in `x-websocket`).
 *
 * @example
 * await SwaggerParser.validate(createFastapiCompatOpenApi({ basePath: '/compat/fastapi-offline-sync' }));
 */
export function createFastapiCompatOpenApi(
  options: FastapiCompatOpenApiOptions = {},
): OpenApiDocument {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const base = options.basePath ?? '';
  const params = endpointParams(limits);
  const pullParams = params.pull.map((p) =>
    p.name === 'since'
      ? {
          ...p,
          description:
            'The `last_seq` of the previous pull; omitted: from the beginning. Any value this server did not issue (e.g. an HLC from fastapi-offline-sync) answers full_resync_required.',
        }
      : p,
  );
  const common = {
    '401': err('Missing or invalid bearer token'),
    '403': err('Not allowed'),
    '429': err('Rate limited'),
    '500': err('Unexpected failure'),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'fastapi-offline-sync compatible API (trpc-offline-sync)',
      version: '1',
      description:
        'The wire format of fastapi-offline-sync, served over the trpc-offline-sync engine. Errors answer `{ "detail", "error": { code, message, issues } }`.',
    },
    security: [{ bearerAuth: [] }],
    paths: {
      [`${base}/sync/push`]: {
        post: {
          operationId: 'push',
          summary: 'Apply a batch of changes atomically',
          description: `A retry of the same body from the same client_id is answered with its first outcome and applied once. Body at most ${limits.maxBodyBytes} bytes, at most ${limits.maxChangesPerPush} changes.`,
          requestBody: { required: true, content: json(ref('PushRequest')) },
          responses: {
            '200': { description: 'Outcome of every change', content: json(ref('PushResponse')) },
            '400': err('Bad input'),
            '413': err('Too large'),
            '415': err('Not JSON'),
            ...common,
          },
        },
      },
      [`${base}/sync/pull`]: {
        get: {
          operationId: 'pull',
          summary: 'Changes after last_seq, or full_resync_required',
          parameters: parameters(pullParams),
          responses: {
            '200': {
              description: 'A page of changes (whole commits), or full_resync_required',
              content: json(ref('PullResponse')),
            },
            '400': err('Bad input'),
            ...common,
          },
        },
      },
      [`${base}/sync/full`]: {
        get: {
          operationId: 'full',
          summary: 'One page of current state as gzip NDJSON (tombstones included)',
          parameters: parameters(params.full),
          responses: {
            '200': {
              description: 'One FullLine per line',
              headers: {
                'X-Sync-LastSeq': {
                  required: true,
                  description: 'Pull from here once every page is read.',
                  schema: { type: 'string' },
                },
                'X-Sync-Cursor': {
                  required: false,
                  description: 'Pass as `cursor` for the next page; absent on the last page.',
                  schema: { type: 'string' },
                },
              },
              content: {
                'application/x-ndjson': {
                  schema: { type: 'string' },
                  'x-item-schema': ref('FullLine'),
                },
              },
            },
            '400': err('Bad input'),
            ...common,
          },
        },
      },
      [`${base}/sync/stream`]: {
        get: {
          operationId: 'stream',
          summary: 'WebSocket upgrade only (see x-websocket)',
          responses: {
            '101': { description: 'Switching to WebSocket' },
            '404': err('Not a WebSocket upgrade'),
          },
        },
        'x-websocket': {
          description:
            'First client frame {"type":"subscribe","since":"…","collections":["…"],"token":"…"} (or ?token=). Server frames: {"type":"change",version,collection,doc_id,operation,data,last_seq} per change, {"type":"heartbeat","last_seq"} at least every 30 s, {"type":"full_resync_required","collections":[…]} then close 1000; a refused subscription gets {"type":"error",detail,error} and close 4000 + HTTP status.',
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
    },
    components: {
      schemas: schemas(),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
    },
  };
}
