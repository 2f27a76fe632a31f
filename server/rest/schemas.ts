/** JSON Schemas of the wire shapes, generated from the shared zod schemas with `z.toJSONSchema` (nothing written by hand). */
import { z } from 'zod';
import {
  errorBody,
  fullDoc,
  pullResponse,
  pushInput,
  pushResponse,
  streamEvent,
} from '../../shared/protocol.js';

type JsonSchema = Record<string, unknown>;

/** The component schemas of the OpenAPI document, keyed by name. */
export function componentSchemas(): Record<string, JsonSchema> {
  return registrySchemas(
    { PushInput: pushInput },
    {
      PushResponse: pushResponse,
      PullResponse: pullResponse,
      FullDoc: fullDoc,
      StreamEvent: streamEvent,
      ErrorBody: errorBody,
      HealthResponse: healthResponse,
    },
  );
}

/**
 * Component schemas by name from zod schemas: `inputs` as requests accept them, `outputs` as
 * answers give them, with `$ref`s between them (`#/components/schemas/<name>`).
 */
export function registrySchemas(
  inputs: Record<string, z.ZodType>,
  outputs: Record<string, z.ZodType>,
): Record<string, JsonSchema> {
  const registry = (schemas: Record<string, z.ZodType>) => {
    const r = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(schemas)) r.add(schema, { id });
    return r;
  };
  const uri = (id: string) => `#/components/schemas/${id}`;
  const options = { uri, target: 'draft-2020-12', unrepresentable: 'any' } as const;
  const all = {
    ...z.toJSONSchema(registry(inputs), { ...options, io: 'input' }).schemas,
    ...z.toJSONSchema(registry(outputs), { ...options, io: 'output' }).schemas,
  } as Record<string, JsonSchema>;
  return Object.fromEntries(Object.entries(all).map(([name, schema]) => [name, strip(schema)]));
}

/** JSON Schema of a single parameter (no `$schema` keyword). */
export function paramSchema(schema: z.ZodType): JsonSchema {
  return strip(
    z.toJSONSchema(schema, {
      io: 'input',
      target: 'draft-2020-12',
      unrepresentable: 'any',
    }) as JsonSchema,
  );
}

/** Drops the keywords that only make sense in a standalone JSON Schema document. */
function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** `GET /sync/health` answer. */
export const healthResponse = z.object({ ok: z.literal(true), store: z.string() });
