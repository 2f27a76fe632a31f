/** `syncTransformer`: superjson on the wire, but incoming inputs keep the own `__proto__` keys JSON.parse made, so the engine can refuse them. */
import superjson from 'superjson';

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
    deserialize: (payload: any) => superjson.deserialize(payload, { inPlace: true }),
  },
  output: {
    serialize: (value: unknown) => superjson.serialize(value),
    deserialize: (payload: any) => superjson.deserialize(payload),
  },
};
