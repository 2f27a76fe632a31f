/**
 * Durability as real processes: a Node app on `sqliteLocalStore` (better-sqlite3, a file) writes with
 * `putMany` in a loop against a real sync server on 127.0.0.1; killed with SIGKILL mid-loop, or stopped
 * normally while offline, then restarted to `sync()`: every batch it saw complete is on the server exactly once
 * (checked in the server's oplog), on a server on PGlite and on PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import {
  SECRET,
  serverStoreCases,
  startClientServer,
  type ClientTestServer,
} from '../client/harness.js';

const APP = fileURLToPath(new URL('./fixtures/sqlite-app.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sqlite-app-'));

let token: string;
beforeAll(async () => {
  token = await signDevToken(SECRET, { sub: 'u-acme', tenant: 'acme', expiresIn: '1h' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface AppRun {
  lines: Record<string, unknown>[];
  /** Resolves with the exit code (or signal) once the process is gone. */
  exit: Promise<number | string>;
  kill(): void;
  /** Resolves once `count` lines matching `pick` arrived. */
  waitFor(pick: (line: Record<string, unknown>) => boolean, count?: number): Promise<void>;
}

function runApp(env: Record<string, string>): AppRun {
  const child = spawn(process.execPath, ['--import', 'tsx', APP], {
    env: { ...process.env, APP_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const w of [...waiters]) w();
  });
  const exit = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  void exit.then((code) => {
    if (code !== 0 && code !== 'SIGKILL') console.error(`app exited with ${code}: ${stderr}`);
  });
  return {
    lines,
    exit,
    kill: () => child.kill('SIGKILL'),
    waitFor: (pick, count = 1) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (lines.filter(pick).length >= count) resolve();
        };
        waiters.push(check);
        void exit.then((code) =>
          reject(new Error(`app exited (${code}) before ${count} lines: ${stderr}`)),
        );
        check();
      }),
  };
}

const doneIds = (run: AppRun) => run.lines.flatMap((l) => (l.done as string[] | undefined) ?? []);
const counts = (values: unknown[]) => {
  const m = new Map<unknown, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};

for (const storeCase of await serverStoreCases()) {
  describe(`server on ${storeCase.name}`, () => {
    let server: ClientTestServer;
    let url: string;
    beforeAll(async () => {
      server = await startClientServer({ store: storeCase });
      url = server.url;
    });
    afterAll(() => server?.close());
    /** Every oplog entry the app's client id wrote: mutation ids and document ids. */
    const oplogOf = (clientId: string) => server.oplog('acme', clientId);

    describe('sqliteLocalStore in a real Node app process', () => {
      it('a kill -9 in the middle of a putMany loop loses no completed write, and the restart pushes each exactly once', async () => {
        const db = join(dir, `${storeCase.name}-killed.db`);
        const first = runApp({ APP_MODE: 'write', APP_DB: db, APP_URL: url, APP_BATCH: '25' });
        await first.waitFor((l) => Array.isArray(l.done), 40);
        first.kill();
        expect(await first.exit).toBe('SIGKILL');
        const clientId = first.lines[0]!.clientId as string;
        const seen = doneIds(first);
        expect(seen.length).toBeGreaterThanOrEqual(40 * 25);

        const second = runApp({ APP_MODE: 'sync', APP_DB: db, APP_URL: url });
        await second.waitFor((l) => 'synced' in l);
        expect(await second.exit).toBe(0);
        const result = second.lines.find((l) => 'synced' in l)!;
        expect(result.clientId).toBe(clientId);
        expect(result.outbox).toBe(0);

        const oplog = await oplogOf(clientId);
        const perMutation = counts(oplog.map((e) => e.mutationId));
        expect([...perMutation.values()].every((c) => c === 1)).toBe(true);
        const perDoc = counts(oplog.map((e) => e.id));
        for (const id of seen) expect(perDoc.get(id), id).toBe(1);
        // Each putMany is one transaction: a batch is on the server whole or not at all.
        const perBatch = counts(oplog.map((e) => e.id.replace(/-r\d+$/, '')));
        expect([...perBatch.values()].every((c) => c === 25)).toBe(true);
        // The server's copy of the last completed write is the app's.
        const last = seen[seen.length - 1]!;
        const docs = await server.store.scanDocs('acme', {
          collections: ['tasks'],
          limit: 100_000,
        });
        expect(docs.find((d) => d.id === last)?.data).toMatchObject({
          title: `batch ${Number(last.split('-b')[1]!.split('-')[0])} row 24`,
        });
      }, 60_000);

      it('keeps the outbox across a normal restart while offline, and pushes it once back online', async () => {
        const db = join(dir, `${storeCase.name}-offline.db`);
        const offline = runApp({
          APP_MODE: 'write',
          APP_DB: db,
          APP_URL: 'http://127.0.0.1:9',
          APP_BATCHES: '6',
          APP_BATCH: '10',
          APP_SYNC: '0',
        });
        expect(await offline.exit).toBe(0);
        const clientId = offline.lines[0]!.clientId as string;
        const seen = doneIds(offline);
        expect(seen).toHaveLength(60);
        expect(await oplogOf(clientId)).toHaveLength(0);

        const again = runApp({ APP_MODE: 'sync', APP_DB: db, APP_URL: url });
        expect(await again.exit).toBe(0);
        const result = again.lines.find((l) => 'synced' in l)!;
        expect(result).toMatchObject({ clientId, outbox: 0, synced: { pushed: 60 } });
        expect((await oplogOf(clientId)).map((e) => e.id).sort()).toEqual([...seen].sort());

        const third = runApp({ APP_MODE: 'sync', APP_DB: db, APP_URL: url });
        expect(await third.exit).toBe(0);
        expect(third.lines.find((l) => 'synced' in l)).toMatchObject({
          synced: { pushed: 0 },
          outbox: 0,
        });
        expect(await oplogOf(clientId)).toHaveLength(60);
      }, 60_000);
    });
  });
}
