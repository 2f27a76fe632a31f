/** CORS for browser apps on other origins: preflight answers and the headers every response carries. */

/** Which origins may call the API: `true` any (`*`), a list, or a predicate. */
export type CorsOrigin = true | string[] | ((origin: string) => boolean);

const EXPOSED =
  'X-Sync-Cursor, X-Sync-Checkpoint, Content-Encoding, Retry-After, X-Sync-Min-Schema-Version';

/** The allowed origin value for a request's `Origin`, or null when it is not allowed. */
export function allowedOrigin(cors: CorsOrigin | undefined, origin: string | null): string | null {
  if (!cors) return null;
  if (cors === true) return '*';
  if (!origin) return null;
  const ok = Array.isArray(cors) ? cors.includes(origin) : cors(origin);
  return ok ? origin : null;
}

/** Adds CORS headers to a response (a no-op when CORS is off or the origin is not allowed). */
export function withCors(
  res: Response,
  cors: CorsOrigin | undefined,
  origin: string | null,
): Response {
  const allowed = allowedOrigin(cors, origin);
  if (!allowed) return res;
  res.headers.set('access-control-allow-origin', allowed);
  res.headers.set('access-control-expose-headers', EXPOSED);
  if (allowed !== '*') res.headers.append('vary', 'Origin');
  return res;
}

/** The answer to an `OPTIONS` preflight for a path that allows `methods`. */
export function preflight(
  methods: string[],
  cors: CorsOrigin | undefined,
  origin: string | null,
): Response {
  const res = new Response(null, {
    status: 204,
    headers: { allow: [...methods, 'OPTIONS'].join(', ') },
  });
  if (allowedOrigin(cors, origin)) {
    res.headers.set('access-control-allow-methods', [...methods, 'OPTIONS'].join(', '));
    res.headers.set(
      'access-control-allow-headers',
      'Authorization, Content-Type, Last-Event-ID, Accept-Encoding, X-Sync-Schema-Version',
    );
    res.headers.set('access-control-max-age', '600');
  }
  return withCors(res, cors, origin);
}
