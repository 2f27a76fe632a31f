/** Schema-version gating on REST, SSE and the raw WebSocket: an outdated client gets 426 UPGRADE_REQUIRED before anything is read or written. */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { createSyncEngine } from '../../server/engine/engine.js';
import { createOpenApiDocument } from '../../server/rest/openapi.js';
import { CliError, parseMinSchemaVersion, readConfig } from '../../server/cli/config.js';
import { defineSyncSchema } from '../../shared/schema.js';
import { api, schema, startServer, storeCases, taskChanges } from './harness.js';

const cases = await storeCases();
const v = (n: number | string) => ({ 'x-sync-schema-version': String(n) });

describe('defineSyncSchema version and the engine options', () => {
  it('keeps every existing call working: no options, no version', () => {
    expect(schema.version).toBeUndefined();
    expect(defineSyncSchema({ a: z.object({}) }, { version: 3 }).version).toBe(3);
  });

  it('refuses a version that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => defineSyncSchema({ a: z.object({}) }, { version: bad })).toThrow(
        /version must be a positive integer/,
      );
  });
});

describe.each(cases)('minSchemaVersion on $name', ({ create }) => {
  it("refuses a minimum above the schema's own version or not a positive integer; the schema's version works", async () => {
    const store = await create();
    try {
      const versioned = defineSyncSchema(
        { tasks: z.object({ title: z.string() }) },
        { version: 2 },
      );
      expect(() => createSyncEngine({ store, schema: versioned, minSchemaVersion: 3 })).toThrow(
        /minSchemaVersion \(3\) is above the schema's own version \(2\)/,
      );
      expect(() => createSyncEngine({ store, schema: versioned, minSchemaVersion: 0 })).toThrow(
        /minSchemaVersion must be a positive integer/,
      );
      const engine = createSyncEngine({
        store,
        schema: versioned,
        minSchemaVersion: 2,
        retention: { pruneIntervalMs: 0 },
      });
      const actor = { userId: 'u', scopeId: 'min-version' };
      const change = {
        mutationId: 1,
        collection: 'tasks',
        id: 't1',
        op: 'upsert' as const,
        data: { title: 'x' },
      };
      // Below the minimum: refused before anything is written; at it: stored.
      await expect(
        engine.push(actor, { clientId: 'c', schemaVersion: 1, changes: [change] } as never),
      ).rejects.toMatchObject({ code: 'UPGRADE_REQUIRED' });
      expect((await store.head(actor.scopeId)).seq).toBe(0);
      await engine.push(actor, { clientId: 'c', schemaVersion: 2, changes: [change] } as never);
      expect((await store.head(actor.scopeId)).seq).toBe(1);
      await engine.close();
    } finally {
      await store.close();
    }
  });
});

describe.each(cases.filter((c) => c.name !== 'postgres' || process.env.TEST_DATABASE_URL))(
  'schema versions over REST on $name',
  ({ create }) => {
    it('426 with X-Sync-Min-Schema-Version for an older client on push, pull, full and SSE; nothing is written', async () => {
      await using s = await startServer(await create(), { engine: { minSchemaVersion: 2 } });
      const token = await s.token('old', 'acme');
      const push = await api(s.base, '/sync/push', {
        token,
        headers: v(1),
        body: { clientId: 'd1', changes: taskChanges(1, 2) },
      });
      expect(push.status).toBe(426);
      expect(push.json.error.code).toBe('UPGRADE_REQUIRED');
      expect(push.json.error.message).toMatch(
        /schema version 1 is older than the oldest this server accepts \(2\)/,
      );
      expect(push.json.error.issues).toEqual([
        { path: 'schemaVersion', message: 'must be at least 2' },
      ]);
      expect(push.headers.get('x-sync-min-schema-version')).toBe('2');
      for (const path of ['/sync/pull', '/sync/full', '/sync/stream']) {
        const res = await api(s.base, path, { token, headers: v(1) });
        expect(res.status, path).toBe(426);
        expect(res.json.error.code).toBe('UPGRADE_REQUIRED');
      }
      // EventSource cannot set headers: the query parameter does the same.
      expect((await api(s.base, '/sync/stream?schemaVersion=1', { token })).status).toBe(426);
      // Checked before anything else: a collection the old client still names is not a 400 here.
      expect(
        (await api(s.base, '/sync/pull?collections=legacy', { token, headers: v(1) })).status,
      ).toBe(426);
      // The version in the push body is checked too (no header).
      expect(
        (
          await api(s.base, '/sync/push', {
            token,
            body: { clientId: 'd1', schemaVersion: 1, changes: taskChanges(1, 1) },
          })
        ).status,
      ).toBe(426);

      const pulled = await api(s.base, '/sync/pull', { token, headers: v(2) });
      expect(pulled.status).toBe(200);
      expect(pulled.json.changes).toEqual([]);
    });

    it('accepts the minimum, a newer version and (by default) no version; a malformed one is a 400 naming the header', async () => {
      await using s = await startServer(await create(), { engine: { minSchemaVersion: 2 } });
      const token = await s.token('new', 'acme');
      expect(
        (
          await api(s.base, '/sync/push', {
            token,
            headers: v(2),
            body: { clientId: 'd1', changes: taskChanges(1, 1) },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await api(s.base, '/sync/push', {
            token,
            headers: v(7),
            body: { clientId: 'd1', changes: taskChanges(2, 1) },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await api(s.base, '/sync/push', {
            token,
            body: { clientId: 'd1', changes: taskChanges(3, 1) },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await api(s.base, '/sync/push?schemaVersion=2', {
            token,
            body: { clientId: 'd1', changes: taskChanges(4, 1) },
          })
        ).status,
      ).toBe(200);
      const pulled = await api(s.base, '/sync/pull?schemaVersion=3', { token });
      expect(pulled.json.changes.map((c: { id: string }) => c.id)).toEqual([
        't1',
        't2',
        't3',
        't4',
      ]);
      const full = await api(s.base, '/sync/full', { token, headers: v(2) });
      expect(full.status).toBe(200);
      expect(full.text.trim().split('\n')).toHaveLength(4);

      for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
        const res = await api(s.base, '/sync/pull', { token, headers: v(bad) });
        expect(res.status, bad).toBe(400);
        expect(res.json.error.issues[0].path).toBe('X-Sync-Schema-Version');
      }
      const clash = await api(s.base, '/sync/pull?schemaVersion=3', { token, headers: v(2) });
      expect(clash.status).toBe(400);
      expect(clash.json.error.message).toMatch(/contradicts|says/);
      const badBody = await api(s.base, '/sync/push', {
        token,
        body: { clientId: 'd1', schemaVersion: 'two', changes: [] },
      });
      expect(badBody.status).toBe(400);
      expect(badBody.json.error.issues[0].path).toBe('schemaVersion');
    });

    it('requireSchemaVersion: a request without a version is refused, one with a version served', async () => {
      await using s = await startServer(await create(), {
        engine: { minSchemaVersion: 1, requireSchemaVersion: true },
      });
      const token = await s.token('req', 'acme');
      const none = await api(s.base, '/sync/pull', { token });
      expect(none.status).toBe(426);
      expect(none.json.error.issues).toEqual([{ path: 'schemaVersion', message: 'required' }]);
      expect((await api(s.base, '/sync/stream', { token })).status).toBe(426);
      expect((await api(s.base, '/sync/pull', { token, headers: v(1) })).status).toBe(200);
      // Health and the OpenAPI document stay open to everyone.
      expect((await api(s.base, '/sync/health')).status).toBe(200);
      expect((await api(s.base, '/openapi.json')).status).toBe(200);
    });

    it('raw WebSocket: an error frame with UPGRADE_REQUIRED and close code 4426; the minimum subscribes', async () => {
      await using s = await startServer(await create(), {
        engine: { minSchemaVersion: 2, stream: { heartbeatMs: 100 } },
      });
      const token = await s.token('ws', 'acme');
      const open = async (frame: Record<string, unknown>) => {
        const ws = new WebSocket(`${s.base.replace('http', 'ws')}/sync/stream`);
        const frames: any[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
        const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
        await new Promise((r) => ws.once('open', r));
        ws.send(JSON.stringify({ type: 'subscribe', token, ...frame }));
        return { ws, frames, closed };
      };
      const old = await open({ schemaVersion: 1, collections: ['legacy'] });
      expect(await old.closed).toBe(4426);
      expect(old.frames).toEqual([
        { type: 'error', error: expect.objectContaining({ code: 'UPGRADE_REQUIRED' }) },
      ]);
      const bad = await open({ schemaVersion: 'x' });
      expect(await bad.closed).toBe(4400);
      const current = await open({ schemaVersion: 2 });
      await expect
        .poll(() => current.frames.some((f) => f.type === 'heartbeat'), { timeout: 15_000 })
        .toBe(true);
      current.ws.close();
    });
  },
);

describe('SYNC_MIN_SCHEMA_VERSION', () => {
  it('reads a positive integer, none when unset, and refuses anything else with one line', () => {
    expect(readConfig(['serve'], { SYNC_MIN_SCHEMA_VERSION: '3' }).minSchemaVersion).toBe(3);
    expect(readConfig(['serve'], {}).minSchemaVersion).toBeNull();
    expect(parseMinSchemaVersion(' ')).toBeNull();
    for (const bad of ['0', '-2', '1.5', 'v3'])
      expect(() => parseMinSchemaVersion(bad)).toThrow(CliError);
    expect(() => parseMinSchemaVersion('x')).toThrow(
      /SYNC_MIN_SCHEMA_VERSION: expected a positive integer/,
    );
  });
});

describe('schema versions in the OpenAPI document', () => {
  it('documents the X-Sync-Schema-Version header and the 426 answer on every sync endpoint', () => {
    const doc = createOpenApiDocument() as any;
    for (const [path, method] of [
      ['/sync/push', 'post'],
      ['/sync/pull', 'get'],
      ['/sync/full', 'get'],
      ['/sync/stream', 'get'],
    ] as const) {
      const op = doc.paths[path][method];
      expect(
        op.parameters.some((p: any) => p.name === 'X-Sync-Schema-Version' && p.in === 'header'),
        path,
      ).toBe(true);
      expect(op.responses['426'], path).toEqual({ $ref: '#/components/responses/UpgradeRequired' });
    }
    expect(
      doc.components.responses.UpgradeRequired.headers['X-Sync-Min-Schema-Version'],
    ).toBeDefined();
    expect(
      doc.paths['/sync/stream'].get.parameters.some(
        (p: any) => p.name === 'schemaVersion' && p.in === 'query',
      ),
    ).toBe(true);
  });
});
