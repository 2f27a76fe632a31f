/** Pass-through input parsers: precise static types for tRPC clients, while the engine does the validating. */
import type { FullInput, PullInput, StreamInput } from '../../shared/protocol.js';
import type { SyncSchema, TypedPushInput } from '../../shared/schema.js';

/**
 * A tRPC input parser that accepts anything at run time and claims the type `T`. The engine
 * validates every input itself, so errors are uniform SyncErrors with issues whatever the face.
 */
export function passThrough<T>(): (input: unknown) => T {
  return (input) => input as T;
}

/** The input types the `sync` procedures declare to tRPC clients. */
export interface SyncInputs<S extends SyncSchema> {
  push: TypedPushInput<S>;
  pull: PullInput | void;
  full: FullInput | void;
  stream: StreamInput | void;
}
