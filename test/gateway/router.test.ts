/** The HTTP faces' one router: unknown path 404, wrong method 405 with Allow, HEAD as GET, preflight methods, base paths. */
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../server/gateway/router.js';

const routes = {
  '/sync/push': { POST: 'push' },
  '/sync/pull': { GET: 'pull' },
  '/both': { GET: 'get', POST: 'post' },
};

describe('createRouter', () => {
  it('matches a path and method, HEAD as GET, a trailing slash ignored', () => {
    const route = createRouter(routes);
    expect(route('POST', '/sync/push')).toEqual({ kind: 'endpoint', endpoint: 'push' });
    expect(route('GET', '/sync/pull/')).toEqual({ kind: 'endpoint', endpoint: 'pull' });
    expect(route('HEAD', '/sync/pull')).toEqual({ kind: 'endpoint', endpoint: 'pull' });
  });

  it('answers not-found for unknown paths, prototype keys included, and method-not-allowed with the allowed methods', () => {
    const route = createRouter(routes);
    expect(route('GET', '/nope')).toEqual({ kind: 'not-found' });
    expect(route('GET', '/constructor')).toEqual({ kind: 'not-found' });
    expect(route('GET', '/__proto__')).toEqual({ kind: 'not-found' });
    expect(route('GET', '/sync/push')).toEqual({ kind: 'method-not-allowed', allow: 'POST' });
    expect(route('HEAD', '/sync/push')).toEqual({ kind: 'method-not-allowed', allow: 'POST' });
    expect(route('DELETE', '/both')).toEqual({ kind: 'method-not-allowed', allow: 'GET, POST' });
    expect(route('GET', '/sync/pull')).not.toEqual(
      expect.objectContaining({ kind: 'method-not-allowed' }),
    );
    // A method name that is a prototype key is not a method of the path.
    expect(route('toString', '/sync/pull')).toEqual({ kind: 'method-not-allowed', allow: 'GET' });
  });

  it("names a known path's methods for a preflight", () => {
    const route = createRouter(routes);
    expect(route('OPTIONS', '/both')).toEqual({ kind: 'preflight', methods: ['GET', 'POST'] });
    expect(route('OPTIONS', '/nope')).toEqual({ kind: 'not-found' });
  });

  it('serves only below its base path', () => {
    const route = createRouter(routes, '/api/');
    expect(route('GET', '/api/sync/pull')).toEqual({ kind: 'endpoint', endpoint: 'pull' });
    expect(route('GET', '/sync/pull')).toEqual({ kind: 'not-found' });
    expect(route('GET', '/apix/sync/pull')).toEqual({ kind: 'not-found' });
  });
});
