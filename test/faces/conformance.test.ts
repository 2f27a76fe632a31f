/**
 * The face conformance suite: one case list, run on every face of the one-port server (tRPC over
 * HTTP, WebSocket and SSE, REST, SSE, the raw WebSocket, the compat face over HTTP and WebSocket),
 * on PGlite and on PostgreSQL when TEST_DATABASE_URL is set. A case a face cannot express is
 * skipped with its reason in the test name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteStore } from '../../server/stores/postgres/index.js';
import type { Store } from '../../server/stores/store.js';
import { throwawayPostgresStore } from '../rest/harness.js';
import { drivers, type Attempt, type CaseKey, type FaceDriver } from './drivers.js';
import { startFaceServer, type FaceServer } from './server.js';

interface Case {
  name: string;
  /** The key a face's `skip` names it by. */
  key: CaseKey;
  attempt: Attempt;
  code: string;
  status: number;
  /** Reports the case must cause: `authenticate` (a failed hook) or `failure` (500 with its id). */
  reports?: 'authenticate' | 'failure';
  /** Run once first (the rate-limit case spends the budget). */
  prime?: boolean;
}

const cases: Case[] = [
  {
    name: '401: no token',
    key: '401-none',
    attempt: { token: null },
    code: 'UNAUTHORIZED',
    status: 401,
  },
  {
    name: '401: bad token',
    key: '401-bad',
    attempt: { token: 'bad' },
    code: 'UNAUTHORIZED',
    status: 401,
  },
  {
    name: '401: authenticate throws (sync), reported once',
    key: '401-throw',
    attempt: { token: 'throw' },
    code: 'UNAUTHORIZED',
    status: 401,
    reports: 'authenticate',
  },
  {
    name: '401: authenticate rejects (async), reported once',
    key: '401-reject',
    attempt: { token: 'throw-async' },
    code: 'UNAUTHORIZED',
    status: 401,
    reports: 'authenticate',
  },
  {
    name: '403: authenticate throws FORBIDDEN',
    key: '403',
    attempt: { token: 'forbidden' },
    code: 'FORBIDDEN',
    status: 403,
  },
  {
    name: '413: body over maxBodyBytes',
    key: '413',
    attempt: { token: 'good', variant: 'big-body' },
    code: 'PAYLOAD_TOO_LARGE',
    status: 413,
  },
  {
    name: '414: URL over maxUrlLength',
    key: '414',
    attempt: { token: 'good', variant: 'long-url' },
    code: 'URI_TOO_LONG',
    status: 414,
  },
  {
    name: '426: schema version under minSchemaVersion',
    key: '426',
    attempt: { token: 'good', variant: 'old-schema' },
    code: 'UPGRADE_REQUIRED',
    status: 426,
  },
  {
    name: '429: over the rate limit',
    key: '429',
    attempt: { token: 'limited' },
    code: 'TOO_MANY_REQUESTS',
    status: 429,
    prime: true,
  },
  {
    name: '5xx: an unexpected failure has a request id, reported exactly once',
    key: '5xx',
    attempt: { token: 'boom' },
    code: 'INTERNAL',
    status: 500,
    reports: 'failure',
  },
];

const stores: { name: string; create: () => Promise<Store> }[] = [
  { name: 'pglite', create: async () => pgliteStore() },
  ...(process.env.TEST_DATABASE_URL
    ? [
        {
          name: 'postgres',
          create: async () =>
            throwawayPostgresStore(process.env.TEST_DATABASE_URL!, 'faces') as Store,
        },
      ]
    : []),
];

function runFace(driver: FaceDriver, server: () => FaceServer) {
  describe(driver.name, () => {
    for (const c of cases) {
      const reason = driver.skip?.[c.key];
      if (reason) {
        it.skip(`${c.name} (skipped: ${reason})`, () => undefined);
        continue;
      }
      it(c.name, async () => {
        const s = server();
        if (c.prime) await driver.run(s, c.attempt).catch(() => undefined);
        const before = s.reports.length;
        const out = await driver.run(s, c.attempt);
        expect(out.code).toBe(c.code);
        expect(out.status).toBe(driver.statusFor?.[c.code] ?? c.status);
        const reports = s.reports.slice(before);
        if (c.reports === 'failure') {
          expect(out.requestId).toMatch(/^[0-9a-f]{16}$/);
          expect(reports.map((r) => r.requestId)).toEqual([out.requestId]);
          expect(JSON.stringify(out)).not.toContain('secret detail');
        } else if (c.reports === 'authenticate') {
          expect(reports.map((r) => r.op)).toEqual(['authenticate']);
        } else {
          expect(reports).toEqual([]);
        }
      });
    }
  });
}

for (const store of stores) {
  describe(`faces on ${store.name}`, () => {
    let server: FaceServer;
    beforeAll(async () => {
      server = await startFaceServer(await store.create());
    });
    afterAll(async () => server?.close());
    for (const driver of drivers) runFace(driver, () => server);
  });
}
