/** The Express mounting example runs: push and pull through `/api`, the app's own routes untouched. */
import { describe, expect, it } from 'vitest';
import { startExpressServer } from '../../examples/express/server.js';
import { signDevToken } from '../../server/auth/jwt.js';
import { api, taskChanges } from './harness.js';

const SECRET = 'express-example-secret-0123456789abcdef';

describe('examples/express', () => {
  it('serves push and pull under /api next to the app routes', async () => {
    const { url, close } = await startExpressServer({ secret: SECRET, port: 0 });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const token = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 600 });
      expect((await api(url, '/hello')).json).toEqual({ hello: 'from express' });
      const pushed = await api(url, '/api/sync/push', {
        token,
        body: { clientId: 'till-1', changes: taskChanges(1, 2) },
      });
      expect(pushed.status).toBe(200);
      expect(pushed.json.results.map((r: any) => r.status)).toEqual(['accepted', 'accepted']);
      const pulled = await api(url, '/api/sync/pull?limit=10', { token });
      expect(pulled.json.changes.map((c: any) => c.id)).toEqual(['t1', 't2']);
      const doc = (await api(url, '/api/openapi.json')).json;
      expect(Object.keys(doc.paths)).toContain('/api/sync/push');
      const missing = await api(url, '/api/nope', { token });
      expect(missing.status).toBe(404);
      expect(missing.json.error.code).toBe('NOT_FOUND');
    } finally {
      await close();
    }
  }, 60_000);
});
