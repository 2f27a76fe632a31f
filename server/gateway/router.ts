/**
 * The one path router of the HTTP faces (REST and the compat face): a table of path → method →
 * endpoint under a base path. It answers what every face must answer alike: an unknown path
 * (404), a method the path does not take (405 with `Allow`), HEAD as GET, and the methods a
 * preflight may name. Faces keep only their endpoints and their error body's shape.
 */

/** Path (below the base path, no trailing slash) → method → endpoint. */
export type RouteTable<E> = Readonly<Record<string, Readonly<Record<string, E>>>>;

/** What a request matched. */
export type RouteMatch<E> =
  /** No endpoint at this path. */
  | { kind: 'not-found' }
  /** The path exists, but not with this method; `allow` lists its methods (`GET, POST`). */
  | { kind: 'method-not-allowed'; allow: string }
  /** A CORS preflight (`OPTIONS`) of a known path; `methods` are the path's. */
  | { kind: 'preflight'; methods: string[] }
  | { kind: 'endpoint'; endpoint: E };

/** The router of `routes` under `basePath` (`''` or `/api`; a trailing slash is ignored). */
export function createRouter<E>(
  routes: RouteTable<E>,
  basePath = '',
): (method: string, pathname: string) => RouteMatch<E> {
  const base = basePath.replace(/\/+$/, '');
  return (method, pathname) => {
    const path = pathname.startsWith(`${base}/`)
      ? pathname.slice(base.length).replace(/\/+$/, '')
      : null;
    const methods = path !== null && Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!methods) return { kind: 'not-found' };
    if (method === 'OPTIONS') return { kind: 'preflight', methods: Object.keys(methods) };
    const wanted = method === 'HEAD' && Object.hasOwn(methods, 'GET') ? 'GET' : method;
    if (!Object.hasOwn(methods, wanted))
      return { kind: 'method-not-allowed', allow: Object.keys(methods).join(', ') };
    return { kind: 'endpoint', endpoint: methods[wanted]! };
  };
}
