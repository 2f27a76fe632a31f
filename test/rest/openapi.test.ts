/** The OpenAPI 3.1 document: valid, complete, and good enough to generate a typed client that syncs against a real server. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import createClient from 'openapi-fetch';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenApiDocument } from '../../server/rest/index.js';
import { api, startServer, storeCases, taskChanges, type TestServer } from './harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
for (const storeCase of (await storeCases()).filter((c) => c.name !== 'memory')) {
  describe(`on ${storeCase.name}`, () => {
    let s: TestServer;
    let doc: any;

    beforeAll(async () => {
      s = await startServer(await storeCase.create());
      doc = (await api(s.base, '/openapi.json')).json;
    });
    afterAll(async () => s?.close());

    describe('GET /openapi.json', () => {
      it('is a valid OpenAPI 3.1 document', async () => {
        expect(doc.openapi).toBe('3.1.0');
        await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
        await expect(
          SwaggerParser.validate(createOpenApiDocument({ basePath: '/api' }) as any),
        ).resolves.toBeTruthy();
      });

      it('describes every endpoint, parameter, header, status and the bearer scheme', () => {
        expect(Object.keys(doc.paths).sort()).toEqual([
          '/openapi.json',
          '/sync/full',
          '/sync/health',
          '/sync/pull',
          '/sync/push',
          '/sync/stream',
        ]);
        const names = (op: any) => op.parameters.map((p: any) => p.name).sort();
        expect(names(doc.paths['/sync/pull'].get)).toEqual([
          'X-Sync-Schema-Version',
          'collections',
          'limit',
          'params',
          'schemaVersion',
          'since',
          'verifyView',
          'view',
        ]);
        expect(names(doc.paths['/sync/full'].get)).toEqual([
          'Accept-Encoding',
          'X-Sync-Schema-Version',
          'collections',
          'cursor',
          'limit',
          'params',
          'schemaVersion',
          'view',
        ]);
        expect(names(doc.paths['/sync/stream'].get)).toEqual([
          'Last-Event-ID',
          'X-Sync-Schema-Version',
          'collections',
          'lastEventId',
          'params',
          'schemaVersion',
          'since',
          'verifyView',
          'view',
        ]);
        expect(
          doc.paths['/sync/pull'].get.parameters.find((p: any) => p.name === 'limit').schema,
        ).toMatchObject({ type: 'integer', minimum: 1, maximum: s.engine.limits.pullMaxLimit });
        const fullHeaders = doc.paths['/sync/full'].get.responses['200'].headers;
        expect(Object.keys(fullHeaders)).toEqual(
          expect.arrayContaining(['X-Sync-Checkpoint', 'X-Sync-Cursor']),
        );
        expect(Object.keys(doc.paths['/sync/full'].get.responses['200'].content)).toEqual([
          'application/x-ndjson',
        ]);
        expect(Object.keys(doc.paths['/sync/stream'].get.responses['200'].content)).toEqual([
          'text/event-stream',
        ]);
        expect(doc.paths['/sync/stream']['x-websocket'].description).toMatch(/subscribe/);
        expect(Object.keys(doc.paths['/sync/push'].post.responses).sort()).toEqual([
          '200',
          '400',
          '401',
          '403',
          '409',
          '413',
          '414',
          '415',
          '426',
          '429',
          '500',
        ]);
        expect(doc.paths['/sync/push'].post.responses['409'].$ref).toBe(
          '#/components/responses/ClientIdConflict',
        );
        expect(Object.keys(doc.paths['/sync/pull'].get.responses)).toContain('409');
        expect(doc.components.securitySchemes.bearerAuth).toEqual(
          expect.objectContaining({ type: 'http', scheme: 'bearer' }),
        );
        expect(doc.components.schemas.ErrorBody.properties.error.required).toEqual([
          'code',
          'message',
          'issues',
        ]);
        expect(doc.components.schemas.PushInput.properties.changes.items.required).toEqual([
          'mutationId',
          'collection',
          'id',
          'op',
        ]);
      });

      it(
        'generates a typed client (openapi-typescript + openapi-fetch) that type-checks and round-trips push/pull',
        { timeout: 120_000 },
        async () => {
          const dir = await mkdtemp(path.join(os.tmpdir(), 'rest-client-'));
          try {
            await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
            await writeFile(
              path.join(dir, 'api.d.ts'),
              astToString(await openapiTS(doc, { defaultNonNullable: false })),
            );
            await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
            await writeFile(
              path.join(dir, 'tsconfig.json'),
              JSON.stringify({
                compilerOptions: {
                  target: 'ES2022',
                  module: 'NodeNext',
                  moduleResolution: 'NodeNext',
                  strict: true,
                  noEmit: true,
                  skipLibCheck: true,
                  types: ['node'],
                  lib: ['ES2023', 'DOM'],
                },
                files: ['client.ts', 'api.d.ts'],
              }),
            );
            await writeFile(path.join(dir, 'client.ts'), CLIENT_SOURCE);
            await run(
              path.join(ROOT, 'node_modules/.bin/tsc'),
              ['-p', path.join(dir, 'tsconfig.json')],
              { cwd: dir },
            ).catch((error: { stdout?: string }) => {
              throw new Error(
                `the generated client does not type-check:\n${error.stdout ?? String(error)}`,
              );
            });
            const token = await s.token('typed', 'typed-co');
            const { stdout } = await run(
              path.join(ROOT, 'node_modules/.bin/tsx'),
              [path.join(dir, 'client.ts'), s.base, token],
              { cwd: dir, timeout: 60_000 },
            );
            expect(JSON.parse(stdout.trim())).toEqual({
              pushed: ['accepted', 'accepted'],
              retried: ['duplicate', 'duplicate'],
              pulled: ['c1', 'c2'],
              hasMore: false,
              badLimit: 'BAD_REQUEST',
            });
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        },
      );

      it('works with openapi-fetch in-process too', async () => {
        const client = createClient<any>({
          baseUrl: s.base,
          headers: { authorization: `Bearer ${await s.token('u', 'inproc')}` },
        });
        const pushed = await client.POST('/sync/push', {
          body: { clientId: 'x', changes: taskChanges(1, 1) },
        });
        expect(pushed.response.status).toBe(200);
        const pulled = await client.GET('/sync/pull', { params: { query: { limit: 10 } } });
        expect((pulled.data as any).changes).toHaveLength(1);
      });
    });

    /** A client written only against the generated types: a type error here fails the test. */
    const CLIENT_SOURCE = `
  import createClient from 'openapi-fetch';
  import type { paths, components } from './api.js';

  const [base, token] = process.argv.slice(2) as [string, string];
  const client = createClient<paths>({ baseUrl: base, headers: { authorization: \`Bearer \${token}\` } });
  const body: components['schemas']['PushInput'] = {
    clientId: 'typed-1',
    changes: [
      { mutationId: 1, collection: 'tasks', id: 'c1', op: 'upsert', data: { title: 'one' } },
      { mutationId: 2, collection: 'tasks', id: 'c2', op: 'upsert', data: { title: 'two' }, baseVersion: null },
    ],
  };
  const pushed = await client.POST('/sync/push', { body });
  const retried = await client.POST('/sync/push', { body });
  if (!pushed.data || !retried.data) throw new Error('push failed');
  const pulled = await client.GET('/sync/pull', { params: { query: { limit: 100, collections: 'tasks' } } });
  if (!pulled.data) throw new Error('pull failed');
  const statuses: ('accepted' | 'conflict_resolved' | 'rejected' | 'duplicate')[] = pushed.data.results.map((r) => r.status);
  const bad = await client.GET('/sync/pull', { params: { query: { limit: 0 } } });
  // @ts-expect-error -- clientId is required by the generated PushInput type
  void client.POST('/sync/push', { body: { changes: [] } }).catch(() => undefined);
  console.log(JSON.stringify({
    pushed: statuses,
    retried: retried.data.results.map((r) => r.status),
    pulled: pulled.data.changes.map((c) => c.id),
    hasMore: pulled.data.hasMore,
    badLimit: bad.error?.error.code,
  }));
  `;
  });
}
