/** Sync status from request outcomes and connectivity signals, token refresh after UNAUTHORIZED and before expiry, and the upgrade-required stop. */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSyncClient,
  createTokenSource,
  memoryLocalStore,
  type SyncApi,
  type SyncStatus,
} from '../../client/index.js';
import { tokenExpiry } from '../../client/token-source.js';
import { signDevToken } from '../../server/auth/jwt.js';
import type { AppRouter } from '../../server/demo/app-router.js';
import { demoSchema } from '../../server/demo/schema.js';
import { countingApi } from './counting-api.js';
import { eventually, SECRET, startClientServer, type ClientTestServer } from './harness.js';
import { fakeConnectivity } from './fake-connectivity.js';

let server: ClientTestServer;
beforeAll(async () => {
  server = await startClientServer();
});
afterAll(() => server?.close());

describe('status', () => {
  it('is syncing during a sync, online after, offline when the server cannot be reached', async () => {
    const device = await server.device('t-status', 'a');
    const seen: SyncStatus[] = [];
    device.client.on('status', (e) => seen.push(e.status));
    expect(device.client.status()).toBe('online');
    await device.client.collection('tasks').put('a', { title: 'x' });
    await device.client.sync();
    expect(seen).toEqual(['syncing', 'online']);
    device.control.offline = true;
    await expect(device.client.sync()).rejects.toThrow();
    expect(device.client.status()).toBe('offline');
    device.control.offline = false;
    await device.client.sync();
    expect(device.client.status()).toBe('online');
  });

  // Issue 17 found the old version passed without the wake on reconnect (the write made after the
  // network came back scheduled its own push). Here the write is made while offline, when no push may
  // be scheduled, and the backoff is 60 s with no ping: only the wake can push it. Checked by
  // removing `live.wake()` from the connectivity listener in client/sync-client.ts: this test fails.
  it('follows the platform signal, sends nothing while offline, and pushes at once in live mode when the network comes back', async () => {
    const connectivity = fakeConnectivity(true);
    const { trpc } = await server.device('t-conn', 'x');
    const counted = countingApi(trpc.sync);
    const client = createSyncClient({
      api: counted.api,
      schema: demoSchema,
      store: memoryLocalStore(),
      clientId: 'c',
      connectivity,
      retry: { retries: 0, baseMs: 60_000, maxMs: 60_000 },
      ping: false,
    });
    await client.start();
    connectivity.set(false);
    expect(client.status()).toBe('offline');
    expect(client.statusDetail().reason?.code).toBe('PLATFORM_OFFLINE');
    const sent = counted.total();
    await client.collection('tasks').put('n1', { title: 'written offline' });
    expect(await client.pending()).toBe(1);
    await expect(client.sync()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(client.syncNow()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(counted.total()).toBe(sent);
    connectivity.set(true);
    await eventually(async () => expect(await client.pending()).toBe(0));
    expect(server.oplogOf('t-conn', 'c').map((e) => e.id)).toEqual(['n1']);
    expect(client.status()).toBe('online');
    await client.close();
  });

  it('stops syncing on UPGRADE_REQUIRED and keeps the outbox', async () => {
    let calls = 0;
    const upgrade = Object.assign(new Error('client schema version 1 is below the minimum 2'), {
      data: { code: 'PRECONDITION_FAILED', httpStatus: 426, sync: { code: 'UPGRADE_REQUIRED' } },
    });
    const api: SyncApi = {
      push: { mutate: async () => (calls++, Promise.reject(upgrade)) },
      pull: { query: async () => (calls++, Promise.reject(upgrade)) },
      full: { query: async () => (calls++, Promise.reject(upgrade)) },
      stream: { subscribe: () => ({ unsubscribe() {} }) },
    };
    const client = createSyncClient({
      api,
      schema: demoSchema,
      clientId: 'old',
      retry: { retries: 3, baseMs: 1, maxMs: 1 },
    });
    await client.collection('tasks').put('a', { title: 'kept' });
    await expect(client.sync()).rejects.toThrow(/schema version/);
    expect(calls).toBe(1); // not retried
    expect(client.status()).toBe('upgrade-required');
    await expect(client.sync()).rejects.toThrow(/UPGRADE_REQUIRED|newer schema/);
    expect(calls).toBe(1);
    expect(await client.pending()).toBe(1);
  });
});

describe('tokens', () => {
  it('reads the exp of a JWT', async () => {
    const token = await signDevToken(SECRET, { sub: 'a', expiresIn: 60 });
    expect(Math.abs(tokenExpiry(token)! - (Date.now() + 60_000))).toBeLessThan(2000);
    expect(tokenExpiry('not-a-jwt')).toBeNull();
  });

  it('refreshes before expiry; concurrent callers share one fetch', async () => {
    let now = 1_000_000;
    let fetches = 0;
    const exp = (s: number) => `h.${btoa(JSON.stringify({ exp: s })).replace(/=+$/, '')}.sig`;
    const tokens = createTokenSource(
      async ({ refresh }) => (fetches++, exp(now / 1000 + 60 + (refresh ? 1 : 0))),
      { refreshBeforeMs: 10_000, now: () => now },
    );
    const [a, b] = await Promise.all([tokens.get(), tokens.get()]);
    expect(a).toBe(b);
    expect(fetches).toBe(1);
    now += 40_000;
    await tokens.get();
    expect(fetches).toBe(1);
    now += 15_000; // within 10 s of exp
    await tokens.get();
    expect(fetches).toBe(2);
  });

  it('after UNAUTHORIZED gets a new token once and retries; the links read the same source', async () => {
    let issued = 0;
    const tokens = createTokenSource(async () => {
      issued++;
      // the first token is already expired: the server refuses it
      return signDevToken(SECRET, {
        sub: 'u-t-token',
        tenant: 't-token',
        expiresIn: issued === 1 ? -60 : 3600,
      });
    });
    const trpc = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${server.url}/trpc`,
          transformer: superjson,
          headers: async () => ({ authorization: `Bearer ${await tokens.get()}` }),
        }),
      ],
    });
    const client = createSyncClient({
      api: trpc.sync,
      schema: demoSchema,
      store: memoryLocalStore(),
      clientId: 'tok',
      tokens,
      retry: { retries: 0, baseMs: 1, maxMs: 1 },
    });
    await client.collection('tasks').put('a', { title: 'with a fresh token' });
    expect(await client.sync()).toEqual({ pushed: 1, pulled: 1 });
    expect(issued).toBe(2);
    expect(server.oplogOf('t-token', 'tok')).toHaveLength(1);
    expect(await client.token()).toBe(await tokens.get());
  });
});

describe('schema versions against a real server', () => {
  it('an older client gets upgrade-required, stops retrying and keeps its outbox; a current one syncs', async () => {
    const { defineSyncSchema } = await import('../../shared/schema.js');
    const v2 = defineSyncSchema(demoSchema.collections, { version: 2 });
    const v1 = defineSyncSchema(demoSchema.collections, { version: 1 });
    const gated = await startClientServer({
      serverSchema: v2 as unknown as typeof demoSchema,
      minSchemaVersion: 2,
    });
    try {
      const old = await gated.deviceWith(v1, 't-version', 'old');
      await old.client.collection('tasks').put('a', { title: 'from v1' });
      await expect(old.client.sync()).rejects.toThrow();
      expect(old.client.status()).toBe('upgrade-required');
      expect(await old.client.pending()).toBe(1);
      expect(gated.oplogOf('t-version', 'old')).toHaveLength(0);
      const current = await gated.deviceWith(v2, 't-version', 'new');
      await current.client.collection('tasks').put('b', { title: 'from v2' });
      await current.client.sync();
      expect(current.client.status()).toBe('online');
      expect(gated.oplogOf('t-version', 'new')).toHaveLength(1);
    } finally {
      await gated.close();
    }
  });
});
