/** `syncTransformer`: superjson on the wire, but incoming inputs keep the own `__proto__` keys JSON.parse made (so the engine can refuse them), and shared references are refused. */
import { TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { SyncError } from '../../shared/errors.js';

/**
 * Refuses an input whose superjson `meta` makes values share one object (`referentialEqualities`):
 * JSON cannot say that, our clients never need it, and `data.a`/`data.b` shared at every level is
 * 2^depth paths from a few KB. Checked before superjson builds anything; the engine's own walk
 * (`checkJsonShape`) refuses shared objects too, for apps that use plain superjson.
 */
function refuseSharedReferences(payload: unknown): void {
  const meta = (payload as { meta?: { referentialEqualities?: unknown } } | null)?.meta;
  if (meta === null || typeof meta !== 'object' || meta.referentialEqualities === undefined) return;
  const equalities = meta.referentialEqualities;
  // `{ path: [paths…] }`, or `[[paths…], {…}]` when the root itself is shared: name the first path given.
  const rootPaths: unknown = Array.isArray(equalities) ? equalities[0] : undefined;
  const named = Array.isArray(rootPaths)
    ? rootPaths[0]
    : equalities && typeof equalities === 'object'
      ? Object.keys(equalities)[0]
      : undefined;
  const first = typeof named === 'string' ? named : '';
  const path = first.length > 200 ? `${first.slice(0, 200)}…` : first;
  const message = `shared references are not accepted (superjson referentialEqualities${path ? ` at ${path}` : ''}): send each value once, as JSON would`;
  const cause = new SyncError('BAD_REQUEST', `${path || '(root)'}: ${message}`, [
    { path, message },
  ]);
  throw new TRPCError({ code: 'BAD_REQUEST', message: cause.message, cause });
}

/**
 * superjson's `deserialize` copies its input with a copy that silently drops own `__proto__`
 * keys, so a hostile `{"__proto__": …}` in a document would vanish instead of being refused
 * with 400 naming its path, as it is on REST. The input being deserialized is always a value
 * the server just parsed from the request (HTTP body, `?input=`, a WebSocket frame), owned by
 * nobody else, so it is deserialized in place: no copy, every own key kept for the engine's
 * key check (`checkPushShape`). superjson's own guards on `meta` paths still apply. Answers are
 * plain superjson, and clients keep using plain `superjson`: the wire format is the same.
 *
 * @example
 * const t = initTRPC.context<Ctx>().create({ transformer: syncTransformer, errorFormatter: syncErrorFormatter });
 */
export const syncTransformer = {
  input: {
    serialize: (value: unknown) => superjson.serialize(value),
    deserialize: (payload: any) => {
      refuseSharedReferences(payload);
      return superjson.deserialize(payload, { inPlace: true });
    },
  },
  output: {
    serialize: (value: unknown) => superjson.serialize(value),
    deserialize: (payload: any) => superjson.deserialize(payload),
  },
};
