/** Mounting the REST face in an Express 5 app: the web-standard handler under `/api`, the raw WebSocket on the same server. */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { z } from 'zod';
import { defineSyncSchema } from 'trpc-offline-sync';
import { createSyncEngine, type Store } from 'trpc-offline-sync/engine';
import {
  createRestWebSocketServer,
  jwtAuthenticator,
  signDevToken,
  toNodeHandler,
} from 'trpc-offline-sync/node';
import { pgliteStore } from 'trpc-offline-sync/postgres';
import { createRestHandler } from 'trpc-offline-sync/rest';

/** The app's synced collections. */
export const schema = defineSyncSchema({
  tasks: z.object({ title: z.string(), done: z.boolean().default(false) }),
});

/** Options of the example server. */
export interface ExpressExampleOptions {
  /** HS256 secret of the bearer tokens. */
  secret: string;
  /** Port on 127.0.0.1 (`0`: any free port). @default 3000 */
  port?: number;
  /** The sync store. @default an in-memory PGlite */
  store?: Store;
}

/**
 * Starts an Express app with the sync API under `/api` (`/api/sync/push`, `/api/openapi.json`, …)
 * next to the app's own routes.
 *
 * @example
 * const { url, close } = await startExpressServer({ secret: process.env.SYNC_JWT_SECRET!, port: 3000 });
 */
export async function startExpressServer(
  options: ExpressExampleOptions,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const store = options.store ?? (await pgliteStore());
  await store.init();
  const engine = createSyncEngine({ store, schema });
  const authenticate = jwtAuthenticator({ secret: options.secret });
  const rest = toNodeHandler(createRestHandler({ engine, authenticate, basePath: '/api' }));
  const live = createRestWebSocketServer({ engine, authenticate, path: '/api/sync/stream' });

  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'from express' });
  });
  // No body parser in front: the sync handler reads (and size-limits) the body itself. Express
  // strips the mount path from req.url, so hand the handler the original URL (it knows `/api`).
  app.use('/api', (req, res) => {
    req.url = req.originalUrl;
    void rest(req, res);
  });

  const server = app.listen(options.port ?? 3000, '127.0.0.1');
  server.on('upgrade', (req, socket, head) => {
    if (!live.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    async close() {
      await live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.close();
      await store.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const secret = process.env.SYNC_JWT_SECRET ?? 'dev-secret-change-me-0123456789abcdef';
  const { url } = await startExpressServer({ secret, port: Number(process.env.PORT ?? 3000) });
  const token = await signDevToken(secret, { sub: 'dev', tenant: 'demo', expiresIn: '24h' });
  console.log(`sync API on ${url}/api (OpenAPI: ${url}/api/openapi.json)\nTOKEN=${token}`);
}
