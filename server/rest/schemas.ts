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
  const inputs = z.registry<{ id: string }>();
  inputs.add(pushInput, { id: 'PushInput' });
  const outputs = z.registry<{ id: string }>();
  outputs.add(pushResponse, { id: 'PushResponse' });
  outputs.add(pullResponse, { id: 'PullResponse' });
  outputs.add(fullDoc, { id: 'FullDoc' });
  outputs.add(streamEvent, { id: 'StreamEvent' });
  outputs.add(errorBody, { id: 'ErrorBody' });
  outputs.add(healthResponse, { id: 'HealthResponse' });
  const uri = (id: string) => `#/components/schemas/${id}`;
  const all = {
    ...z.toJSONSchema(inputs, { uri, io: 'input', target: 'draft-2020-12', unrepresentable: 'any' })
      .schemas,
    ...z.toJSONSchema(outputs, {
      uri,
      io: 'output',
      target: 'draft-2020-12',
      unrepresentable: 'any',
    }).schemas,
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
