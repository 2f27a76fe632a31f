/**
 * `SYNC_COMPAT_VISIBILITY=user` on the real CLI (demo schema, PGlite in a data folder): the compat
 * face shows each user only the documents they last wrote, and one Bob overwrites leaves Ann's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import { listeningPort, spawnCli, type CliRun } from '../cli-process.js';
import { call } from './harness.js';

const SECRET = 'visibility-cli-secret-visibility-cli-secret';
const dir = mkdtempSync(join(tmpdir(), 'compat-visibility-'));
let run: CliRun;
let base = '';

beforeAll(async () => {
  run = spawnCli(['serve'], SECRET, {
    SYNC_DATA_DIR: join(dir, 'data'),
    SYNC_COMPAT_VISIBILITY: 'user',
    SYNC_LOG: 'silent',
  });
  base = `http://127.0.0.1:${await listeningPort(run)}`;
}, 90_000);
afterAll(async () => {
  run?.child.kill('SIGTERM');
  await run?.exited;
  rmSync(dir, { recursive: true, force: true });
});

it('each user pulls only what they last wrote; an overwritten task leaves the first user', async () => {
  const ann = await signDevToken(SECRET, { sub: 'ann', tenant: 'shop', expiresIn: 600 });
  const bob = await signDevToken(SECRET, { sub: 'bob', tenant: 'shop', expiresIn: 600 });
  const push = (token: string, doc_id: string, title: string) =>
    call(base, '/sync/push', {
      token,
      body: {
        client_id: 'phone',
        changes: [
          {
            collection: 'tasks',
            operation: 'upsert',
            doc_id,
            data: { title },
            parent_version: null,
          },
        ],
      },
    });
  expect((await push(ann, 'a1', 'ann task')).status).toBe(200);
  expect((await push(bob, 'b1', 'bob task')).status).toBe(200);

  const first = await call(base, '/sync/pull', { token: ann });
  expect(first.json.changes.map((c: { doc_id: string }) => c.doc_id)).toEqual(['a1']);
  expect(
    (await call(base, '/sync/pull', { token: bob })).json.changes.map(
      (c: { doc_id: string }) => c.doc_id,
    ),
  ).toEqual(['b1']);

  await push(bob, 'a1', 'bob took it');
  const next = await call(base, `/sync/pull?since=${encodeURIComponent(first.json.last_seq)}`, {
    token: ann,
  });
  expect(
    next.json.changes.map((c: { doc_id: string; operation: string; data: unknown }) => [
      c.doc_id,
      c.operation,
      c.data,
    ]),
  ).toEqual([['a1', 'delete', null]]);
});
