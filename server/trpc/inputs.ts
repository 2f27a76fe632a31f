/** Pass-through input parsers and the static input types tRPC clients see; the engine does the validating. */
import type { z } from 'zod';
import type {
  FullInput,
  PullInput,
  PushResponse,
  StreamInput,
  ViewRequestInput,
} from '../../shared/protocol.js';
import type { PatchOf } from '../../shared/schema.js';
import type { SyncEngine } from '../engine/types.js';
import type { ViewRequest } from '../engine/rules.js';
import type { ChangeMeta } from '../../shared/schema.js';

/**
 * A tRPC input parser that accepts anything at run time and claims the type `T`. The engine
 * validates every input itself, so errors are uniform SyncErrors with issues whatever the face.
 */
export function passThrough<T>(): (input: unknown) => T {
  return (input) => input as T;
}

/**
 * An engine whose schema type is `S` and rules type `R` (what `createSyncRouter` reads the
 * document types and the typed `view` inputs from).
 */
export type EngineFor<S, R = {}> = SyncEngine<any, any> & { readonly schema: S; readonly rules: R };

/** The collections of schema `S`. */
export type CollectionsOf<S> = S extends { readonly collections: infer C } ? C : never;
/** What a collection's zod schema accepts (its input type). */
export type InputOf<T> = T extends z.ZodType ? z.input<T> : never;

/**
 * One typed change of schema `S`: the collection name decides the shape of `data`. (Keyed on the
 * collections map rather than on `SyncSchema<C>`, so it works for any concrete schema.)
 */
export type SyncChangeOf<S> = {
  [K in keyof CollectionsOf<S> & string]: ChangeMeta & { collection: K } & (
      | { op: 'upsert'; data: InputOf<CollectionsOf<S>[K]> }
      | { op: 'patch'; data: PatchOf<InputOf<CollectionsOf<S>[K]>> }
      | { op: 'delete'; data?: null }
    );
}[keyof CollectionsOf<S> & string];

/** The typed push input of schema `S` (same shape as `TypedPushInput`). */
export interface PushInputOf<S> {
  clientId: string;
  atomic?: boolean;
  changes: SyncChangeOf<S>[];
  /** The client's schema version (see `minSchemaVersion`). */
  schemaVersion?: number | null;
}

/**
 * The `view` field of read inputs under rules `R`: one declared rule with its typed params. An
 * engine typed without rules keeps the untyped wire shape (the server answers 400 `view.rule`).
 */
export type ViewField<R> = [keyof R] extends [never]
  ? { view?: ViewRequestInput }
  : { view?: ViewRequest<R> };

/** The input types the `sync` procedures declare to tRPC clients. */
export interface SyncInputs<S, R = {}> {
  push: PushInputOf<S>;
  pull: (Omit<PullInput, 'view'> & ViewField<R>) | void;
  full: (Omit<FullInput, 'view'> & ViewField<R>) | void;
  stream: (Omit<StreamInput, 'view'> & ViewField<R>) | void;
}

/** What a collection's zod schema gives (its output type). */
export type OutputOf<T> = T extends z.ZodType ? z.output<T> : never;
/** The fields every change out carries besides its collection, op and data. */
export type ChangeOutMeta = { id: string; version: string };

/** One change of a pull answer or stream event of schema `S`: `collection` decides the type of `data` (`null` for a delete). */
export type SyncChangeOutOf<S> = {
  [K in keyof CollectionsOf<S> & string]: ChangeOutMeta & { collection: K } & (
      | { op: 'upsert'; data: OutputOf<CollectionsOf<S>[K]> }
      | { op: 'delete'; data: null; left?: boolean }
    );
}[keyof CollectionsOf<S> & string];

/** One document of a full-export page of schema `S` (tombstones: `deleted: true`, `data: null`). */
export type SyncFullDocOf<S> = {
  [K in keyof CollectionsOf<S> & string]: ChangeOutMeta & { collection: K } & (
      { deleted: false; data: OutputOf<CollectionsOf<S>[K]> } | { deleted: true; data: null }
    );
}[keyof CollectionsOf<S> & string];

/** The answer types the `sync` procedures declare to tRPC clients (the wire shapes, typed by the schema). */
export interface SyncOutputs<S> {
  push: PushResponse;
  pull: { changes: SyncChangeOutOf<S>[]; checkpoint: string; hasMore: boolean };
  full: { docs: SyncFullDocOf<S>[]; cursor: string | null; checkpoint: string };
  stream:
    | { type: 'changes'; checkpoint: string; changes: SyncChangeOutOf<S>[] }
    | { type: 'resync_required'; message?: string | undefined }
    | { type: 'heartbeat'; checkpoint?: string | undefined };
}
