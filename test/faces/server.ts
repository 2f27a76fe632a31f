/**
 * The server every face case runs on: `createSyncHttpServer` (tRPC, REST, SSE, raw WebSocket and
 * the
 * compat face on one port) over a real store, with an `authenticate` hook whose tokens name what
 * it does, and an engine whose calls fail unexpectedly for the user `boom`.
 */
import { z } from 'zod';
import { createSyncEngine } from '../../server/engine/engine.js';
import type { SyncEngine } from '../../server/engine/types.js';
import { createSyncHttpServer, type SyncHttpServer } from '../../server/http/server.js';
import type { Store } from '../../server/stores/store.js';
import type { UnexpectedError } from '../../server/unexpected.js';
import { SyncError } from '../../shared/errors.js';
import type { Actor } from '../../shared/protocol.js';
import { defineSyncSchema, type SyncSchema } from '../../shared/schema.js';

export const schema = defineSyncSchema({ tasks: z.object({ title: z.string() }) });

/** Small transport limits, so 413 and 414 are cheap to reach. */
export const LIMITS = { maxBodyBytes: 4096, maxUrlLength: 2000 };

/**
 * The tokens: `good`, `limited` (rate-limited user), `boom` (its engine calls throw a plain Error),
 * `bad` (null), `throw` / `throw-async` (the hook throws a plain Error, synchronously / not),
 * `forbidden` (the hook throws FORBIDDEN synchronously).
 */
export function authenticate(token: string | null): Actor | null | Promise<Actor | null> {
  if (token === 'good' || token === 'limited' || token === 'boom')
    return { userId: token, scopeId: 'acme' };
  if (token === 'throw') throw new Error('user directory unreachable');
  if (token === 'throw-async') return Promise.reject(new Error('user directory unreachable'));
  if (token === 'forbidden') throw new SyncError('FORBIDDEN', 'this account is suspended');
  return null;
}

export interface FaceServer {
  url: string;
  port: number;
  http: SyncHttpServer;
  engine: SyncEngine;
  /** Every report of an unexpected failure, in order. */
  reports: UnexpectedError[];
  close(): Promise<void>;
}

/**
 * Starts the server on `store` with `minSchemaVersion: 2` and a one-request budget for `limited`.
 */
export async function startFaceServer(store: Store): Promise<FaceServer> {
  await store.init();
  let n = 0;
  const engine = createSyncEngine({
    store,
    schema: schema as unknown as SyncSchema,
    minSchemaVersion: 2,
    stream: { heartbeatMs: 60_000 },
    // Only `limited` shares one bucket of one request; everyone else gets a fresh one each time.
    rateLimit: {
      requests: 1,
      windowMs: 3_600_000,
      key: (a) => (a.userId === 'limited' ? 'limited' : `k${n++}`),
    },
  }) as SyncEngine;
  const push = engine.push.bind(engine);
  const stream = engine.stream.bind(engine);
  Object.assign(engine, {
    push: (actor: Actor, input: unknown) =>
      actor.userId === 'boom'
        ? Promise.reject(new Error('database connection lost (secret detail)'))
        : push(actor, input as never),
    stream: (
      actor: Actor,
      ...rest: Parameters<SyncEngine['stream']> extends [unknown, ...infer R] ? R : never
    ) =>
      actor.userId === 'boom'
        ? (async function* () {
            yield* []; // nothing: fails before its first event
            throw new Error('feed broke mid-stream (secret detail)');
          })()
        : stream(actor, ...rest),
  });
  const reports: UnexpectedError[] = [];
  const http = createSyncHttpServer({
    engine,
    authenticate,
    onError: (info) => reports.push(info),
    limits: LIMITS,
  });
  const { url, port } = await http.listen(0, '127.0.0.1');
  return {
    url,
    port,
    http,
    engine,
    reports,
    async close() {
      await http.close();
      await engine.close();
      await store.close();
    },
  };
}
