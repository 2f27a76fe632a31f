/** Query parameters of the REST endpoints: one zod schema each, used to parse requests and to write the OpenAPI document. */
import type { SyncGateway } from '../gateway/gateway.js';
import { answerResponse } from '../gateway/errors.js';
import { z } from 'zod';
import { collectionName } from '../../shared/protocol.js';
import type { SyncLimits } from '../engine/types.js';
import { badParam } from './errors.js';

/** Where an OpenAPI parameter lives. */
export type ParamLocation = 'query' | 'header';

/** One documented, parsed parameter. */
export interface ParamSpec {
  name: string;
  in: ParamLocation;
  description: string;
  schema: z.ZodType;
}

const checkpointParam = z.string().max(200);
const schemaVersionParam: ParamSpec = {
  name: 'schemaVersion',
  in: 'query',
  description:
    "The client's schema version, for clients that cannot set the X-Sync-Schema-Version header (EventSource); the header wins when both are given and they must agree.",
  schema: z.string().regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer'),
};
const collectionsParam = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_]{0,62}(,[A-Za-z][A-Za-z0-9_]{0,62}){0,99}$/,
    'must be comma-separated collection names',
  );

/** `view` and `params`: a read rule's view (docs/protocol.md, "Views"); without them, the actor's default views. */
const viewParams: ParamSpec[] = [
  {
    name: 'view',
    in: 'query',
    description:
      'A read rule\'s name: read exactly that view (docs/protocol.md, "Views"). Omitted: unruled collections whole and the actor\'s default views.',
    schema: z.string().min(1).max(128),
  },
  {
    name: 'params',
    in: 'query',
    description: 'The view\'s params as a JSON object (with `view` only), e.g. {"projectId":"p1"}.',
    schema: z.string().max(2000),
  },
];

/** `verifyView=true`: with `view`, the view's integrity checksum on the last page / catch-up event. */
const verifyViewParam: ParamSpec = {
  name: 'verifyView',
  in: 'query',
  description:
    'With `view`: `true` asks for the view\'s integrity checksum on the last page (pull) or the last catch-up event (stream), at the cost of one scan of the view\'s documents on the server (docs/protocol.md, "Checksums of a view").',
  schema: z.enum(['true', 'false']),
};

/** The `verifyView` query parameter as the engine's input (`true`, `false` or absent). */
export function verifyViewOf(query: Record<string, unknown>): boolean | undefined {
  const raw = query.verifyView;
  if (raw === undefined) return undefined;
  if (query.view === undefined) throw badParam('verifyView', 'needs view');
  return raw === 'true';
}

/**
 * The view a REST request names (`view`, `params` as JSON), or undefined. `params` without `view`,
 * or not a JSON object, is a BAD_REQUEST naming it.
 */
export function viewOf(
  query: Record<string, unknown>,
): { rule: string; params?: Record<string, unknown> } | undefined {
  const rule = query.view as string | undefined;
  const raw = query.params as string | undefined;
  if (rule === undefined) {
    if (raw !== undefined) throw badParam('params', 'needs view');
    return undefined;
  }
  if (raw === undefined) return { rule };
  let params: unknown;
  try {
    params = JSON.parse(raw);
  } catch {
    throw badParam('params', 'must be a JSON object');
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    throw badParam('params', 'must be a JSON object');
  return { rule, params: params as Record<string, unknown> };
}

/** The parameters of each endpoint, by operation. `limits` gives the documented bounds. */
export function endpointParams(
  limits: Pick<
    SyncLimits,
    'pullDefaultLimit' | 'pullMaxLimit' | 'fullDefaultLimit' | 'fullMaxLimit'
  >,
) {
  const collections: ParamSpec = {
    name: 'collections',
    in: 'query',
    description: 'Comma-separated collection names; omitted: every collection.',
    schema: collectionsParam,
  };
  return {
    pull: [
      {
        name: 'since',
        in: 'query',
        description: 'Checkpoint of the last pull; omitted or empty: from the beginning.',
        schema: checkpointParam,
      },
      collections,
      {
        name: 'limit',
        in: 'query',
        description: `Most changes to return (whole commits only). Default ${limits.pullDefaultLimit}.`,
        schema: z.int().min(1).max(limits.pullMaxLimit),
      },
      ...viewParams,
      verifyViewParam,
      schemaVersionParam,
    ],
    full: [
      collections,
      {
        name: 'cursor',
        in: 'query',
        description: "The previous page's X-Sync-Cursor; omitted: first page.",
        schema: checkpointParam.max(2000),
      },
      {
        name: 'limit',
        in: 'query',
        description: `Most documents in this page. Default ${limits.fullDefaultLimit}.`,
        schema: z.int().min(1).max(limits.fullMaxLimit),
      },
      ...viewParams,
      schemaVersionParam,
    ],
    stream: [
      {
        name: 'since',
        in: 'query',
        description: 'Checkpoint to catch up from; omitted: from the beginning.',
        schema: checkpointParam,
      },
      collections,
      {
        name: 'lastEventId',
        in: 'query',
        description: 'Resume point for clients that cannot set the Last-Event-ID header.',
        schema: checkpointParam,
      },
      {
        name: 'Last-Event-ID',
        in: 'header',
        description: 'The last event id received (a checkpoint); resumes after it.',
        schema: checkpointParam,
      },
      ...viewParams,
      verifyViewParam,
      schemaVersionParam,
    ],
  } satisfies Record<string, ParamSpec[]>;
}

/**
 * Reads the query parameters of `specs` from `url`: unknown, repeated or invalid ones are a
 * BAD_REQUEST naming the parameter. Integers and collection lists come back parsed.
 */
export function parseQuery(
  url: URL,
  specs: ParamSpec[],
): Record<string, string | number | string[] | undefined> {
  const known = new Map(specs.filter((s) => s.in === 'query').map((s) => [s.name, s]));
  const out: Record<string, string | number | string[] | undefined> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const spec = known.get(name);
    if (!spec)
      throw badParam(
        name,
        `unknown query parameter (expected ${[...known.keys()].join(', ') || 'none'})`,
      );
    const values = url.searchParams.getAll(name);
    if (values.length > 1) throw badParam(name, 'given more than once');
    out[name] = parseValue(spec, values[0]!);
  }
  return out;
}

function parseValue(spec: ParamSpec, raw: string): string | number | string[] | undefined {
  if (spec.name === 'limit') {
    if (!/^[0-9]{1,9}$/.test(raw)) throw badParam(spec.name, 'must be a positive integer');
    const parsed = spec.schema.safeParse(Number(raw));
    if (!parsed.success)
      throw badParam(spec.name, parsed.error.issues[0]?.message ?? 'out of range');
    return Number(raw);
  }
  if (raw === '') return undefined;
  const parsed = spec.schema.safeParse(raw);
  if (!parsed.success) throw badParam(spec.name, parsed.error.issues[0]?.message ?? 'invalid');
  if (spec.name === 'collections') return raw.split(',').map((c) => collectionName.parse(c));
  return raw;
}

/**
 * Checks a request's URL against `limits` before anything else reads it: longer than
 * `maxUrlLength` characters (path and query) → 414 `URI_TOO_LONG`; more than `maxQueryParams`
 * query parameters → 400 naming `query`. Answers null when the URL is within both. `target` is
 * the request target as received (`/sync/pull?since=…`).
 */
export function urlLimitResponse(
  target: string,
  gateway: Pick<SyncGateway, 'checkTarget'>,
): Response | null {
  const answer = gateway.checkTarget(target);
  return answer ? answerResponse(answer) : null;
}
