/**
 * One sync client per token for the collection browser: the server's own schema, rebuilt in the
 * page from the JSON Schema it wrote there.
 */
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import superjson from 'superjson';
import { z } from 'zod';
import * as sync from 'trpc-offline-sync/client';
import type { SyncClient } from 'trpc-offline-sync/client';
import { indexedDbLocalStore } from 'trpc-offline-sync/client/indexeddb';
import { defineSyncSchema, type SyncSchema } from 'trpc-offline-sync';
import type { SyncAppRouter } from 'trpc-offline-sync/trpc';

/**
 * What the server writes into the page: each collection's JSON Schema (input side) and the schema
 * version.
 */
export interface PageSchema {
  version?: number;
  collections: Record<string, JsonSchema>;
}

/** The part of a JSON Schema the browser reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  items?: JsonSchema;
  description?: string;
}

declare global {
  interface Window {
    /** Written into the page by the server when it runs a schema of the app's own (`--schema`). */
    __SYNC_SCHEMA__?: PageSchema;
  }
}

/**
 * Zod validators from the JSON Schemas, so the page refuses what the server would (a loose object
 * where one cannot be rebuilt).
 */
export function schemaFromPage(page: PageSchema): SyncSchema {
  const collections: Record<string, z.ZodObject> = {};
  for (const [name, json] of Object.entries(page.collections)) {
    let rebuilt: unknown = null;
    try {
      rebuilt = z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0]);
    } catch {
      // a loose object below
    }
    collections[name] = rebuilt instanceof z.ZodObject ? rebuilt : z.looseObject({});
  }
  return defineSyncSchema(collections, page.version === undefined ? {} : { version: page.version });
}

/** A running client and how to end it (when the token is replaced). */
export interface Connection {
  client: SyncClient<SyncSchema>;
  token: string;
  close(): Promise<void>;
}

/**
 * Connects to the server that served the page; the local store is named after the collections, so
 * another schema starts clean.
 */
export function connect(token: string, page: PageSchema): Connection {
  const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;
  const wsClient = createWSClient({
    url: ws,
    connectionParams: () => ({ token }),
    retryDelayMs: (n) => Math.min(250 * 2 ** n, 5_000),
    lazy: { enabled: true, closeMs: 1_000 },
  });
  const trpc = createTRPCClient<SyncAppRouter<SyncSchema>>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient, transformer: superjson }),
        false: httpBatchLink({
          url: `${location.origin}/trpc`,
          transformer: superjson,
          headers: () => ({ authorization: `Bearer ${token}` }),
        }),
      }),
    ],
  });
  const schema = schemaFromPage(page);
  const store = indexedDbLocalStore(`collections:${schema.names.join(',')}`);
  const client = sync.createSyncClient({
    api: trpc.sync,
    schema,
    store,
    tabs: true,
    retry: { retries: 2, maxMs: 2_000 },
  });
  void client.start();
  (window as { __sync?: unknown }).__sync = client; // for tests and the console
  return {
    client,
    token,
    async close() {
      await client.close().catch(() => undefined);
      wsClient.close();
    },
  };
}
