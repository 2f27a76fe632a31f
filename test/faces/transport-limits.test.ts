/**
 * Transport limits belong to the gateway: the engine neither checks nor reads them, the names it
 * used to take still reach the faces as defaults, and a face's own `limits` win. Also the one
 * `onError` shape on a standalone REST handler, and the older one still accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngine } from '../../server/engine/types.js';
import { createSyncGateway } from '../../server/gateway/index.js';
import { createRestHandler } from '../../server/rest/handler.js';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import type { UnexpectedError } from '../../server/unexpected.js';
import type { SyncSchema } from '../../shared/schema.js';
import { authenticate, schema } from './server.js';

let client = 0;
/** A push from a fresh client id each time (so no ledger answers for an earlier one). */
const push = (title: string, token = 'good') =>
  new Request('http://sync.test/sync/push', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: `c${client++}`,
      changes: [{ mutationId: 1, collection: 'tasks', id: 'x', op: 'upsert', data: { title } }],
    }),
  });

describe('transport limits on PGlite', () => {
  let store: Store;
  let engine: SyncEngine;
  beforeAll(async () => {
    store = await pgliteStore();
    await store.init();
    // The old names: accepted, unchecked by the engine (a bad value is the gateway's to refuse).
    engine = createSyncEngine({
      store,
      schema: schema as unknown as SyncSchema,
      limits: { maxBodyBytes: 2048, maxUrlLength: 0 },
      stream: { maxBufferedBytes: 4096 },
    }) as SyncEngine;
  });
  afterAll(async () => {
    await engine.close();
    await store.close();
  });

  it('the engine keeps only its own limits and forwards the transport ones', () => {
    expect(engine.limits).not.toHaveProperty('maxBodyBytes');
    expect(engine.streamOptions).not.toHaveProperty('maxBufferedBytes');
    expect(engine.transportLimits).toEqual({
      maxBodyBytes: 2048,
      maxUrlLength: 0,
      maxBufferedBytes: 4096,
    });
  });

  it('a face refuses a bad forwarded value naming the option, and its own value wins', () => {
    expect(() => createSyncGateway({ engine, authenticate })).toThrow(
      /createSyncGateway: option maxUrlLength/,
    );
    const gateway = createSyncGateway({ engine, authenticate, limits: { maxUrlLength: 500 } });
    expect(gateway.limits).toMatchObject({
      maxBodyBytes: 2048,
      maxUrlLength: 500,
      maxBufferedBytes: 4096,
    });
  });

  it('the forwarded maxBodyBytes bounds the REST body (413), the face option overrides it', async () => {
    const forwarded = createRestHandler({ engine, authenticate, limits: { maxUrlLength: 500 } });
    expect((await forwarded(push('x'.repeat(3000)))).status).toBe(413);
    expect((await forwarded(push('small'))).status).toBe(200);
    const raised = createRestHandler({
      engine,
      authenticate,
      limits: { maxUrlLength: 500, maxBodyBytes: 8192 },
    });
    expect((await raised(push('x'.repeat(3000)))).status).toBe(200);
  });

  it('onError takes the one shape { requestId, op, error }, and the older (error, req, requestId)', async () => {
    const reports: UnexpectedError[] = [];
    const legacy: [unknown, string, string][] = [];
    const boom = { ...engine, push: () => Promise.reject(new Error('disk full')) } as SyncEngine;
    const modern = createRestHandler({
      engine: boom,
      authenticate,
      limits: { maxUrlLength: 500 },
      onError: (info) => reports.push(info),
    });
    const old = createRestHandler({
      engine: boom,
      authenticate,
      limits: { maxUrlLength: 500 },
      onError: (error, req, requestId) =>
        legacy.push([error, new URL(req.url).pathname, requestId]),
    });
    const a = await modern(push('t'));
    const b = await old(push('t'));
    expect([a.status, b.status]).toEqual([500, 500]);
    expect(reports).toEqual([
      { requestId: a.headers.get('x-request-id'), op: 'POST /sync/push', error: expect.any(Error) },
    ]);
    expect(legacy).toEqual([[expect.any(Error), '/sync/push', b.headers.get('x-request-id')]]);
  });
});
