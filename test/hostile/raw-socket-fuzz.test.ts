/**
 * Raw-socket fuzzer against the real CLI server: ≥ 5,000 seeded byte sequences over every listener
 * (main port faces, WebSocket upgrades, the metrics port) on embedded PGlite, and a shorter run
 * (FUZZ_RAW_INPUTS_PG, default 1,500) on PostgreSQL (a fresh database) when TEST_DATABASE_URL is
 * set; the process stays up, nothing answers 5xx, nothing escapes to the process-level net. One
 * summary line per store goes to `.tmp/raw-socket-fuzz.txt`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import { freshDatabase } from '../scale/cluster.js';
import {
  generateInputs,
  inputCounts,
  newTally,
  runInputs,
  summaryLine,
  type FuzzTally,
} from './raw-socket.js';

const SECRET = 'raw-socket-fuzz-secret-0123456789abcdef';
const seed = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : (Date.now() ^ (process.pid << 8)) >>> 0;
/** A positive integer from the environment variable `name`, or `fallback` when unset. */
function countFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name}: expected a positive integer, got "${raw}"`);
  return n;
}
const total = countFrom('FUZZ_RAW_INPUTS', 5200);
if (!Number.isSafeInteger(seed) || seed < 0)
  throw new Error(`FUZZ_SEED: expected a non-negative integer, got "${process.env.FUZZ_SEED}"`);
const dir = mkdtempSync(join(tmpdir(), 'sync-raw-fuzz-'));

interface Served {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  mainPort: number;
  metricsPort: number;
}

/** A store the CLI server runs on: its environment, the number of inputs, and its clean-up. */
interface FuzzStore {
  name: string;
  inputs: number;
  /** Environment variables that select the store (and a fresh database for PostgreSQL). */
  open(): Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
}

const fuzzStores: FuzzStore[] = [
  {
    name: 'pglite',
    inputs: total,
    open: async () => ({ env: { SYNC_DATA_DIR: join(dir, 'data') }, drop: async () => undefined }),
  },
];
if (process.env.TEST_DATABASE_URL) {
  const adminUrl = process.env.TEST_DATABASE_URL;
  fuzzStores.push({
    name: 'postgres',
    inputs: Math.min(total, countFrom('FUZZ_RAW_INPUTS_PG', 1500)),
    open: async () => {
      const db = await freshDatabase(adminUrl, 'rawfuzz');
      return { env: { DATABASE_URL: db.url, MONGODB_URI: '' }, drop: () => db.drop() };
    },
  });
}

/** Summary lines of the runs so far, one per store (`.ci/run` prints the file). */
const summaries: string[] = [];

/** Starts `trpc-offline-sync serve` on the store of `storeEnv`, with `/metrics` on a port of its own. */
async function serve(storeEnv: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
    env: {
      ...process.env,
      DATABASE_URL: '',
      MONGODB_URI: '',
      ...storeEnv,
      PORT: '0',
      SYNC_JWT_SECRET: SECRET,
      SYNC_METRICS_PORT: '0',
      SYNC_LOG: 'error',
      // A per-IP limit too high to refuse anything, behind one trusted proxy: every input's X-Forwarded-For is parsed.
      SYNC_RATE_LIMIT_IP: '1000000/1s',
      SYNC_TRUST_PROXY: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  for (;;) {
    const main = /listening on http:\/\/127\.0\.0\.1:(\d+) /.exec(out);
    const metrics = /metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(out);
    if (main && metrics)
      return {
        child,
        stdout: () => out,
        stderr: () => err,
        exited,
        mainPort: Number(main[1]),
        metricsPort: Number(metrics[1]),
      };
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`CLI did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `sync_uncaught_errors_total` as scraped from the metrics port, or null when it is not there. */
async function uncaughtCount(metricsPort: number): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = /^sync_uncaught_errors_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(fuzzStores)(
  'raw-socket fuzz of every listener of the CLI server on $name',
  ({ name, inputs: total, open }) => {
    let s: Served;
    let drop: (() => Promise<void>) | null = null;
    beforeAll(async () => {
      const opened = await open();
      drop = opened.drop;
      s = await serve(opened.env);
    }, 120_000);
    afterAll(async () => {
      if (s && s.child.exitCode === null) {
        s.child.kill('SIGTERM');
        await s.exited;
      }
      await drop?.();
    }, 90_000);

    it(`survives ${total} seeded inputs: 4xx or a close for each, never a 5xx, the process alive`, async () => {
      const token = await signDevToken(SECRET, { sub: 'fuzz', tenant: 'fuzz', expiresIn: '1h' });
      const counts = inputCounts(total);
      const tally: FuzzTally = newTally();
      console.log(
        `seed ${seed} for the raw-socket fuzz on ${name} (FUZZ_SEED=${seed} replays this run)`,
      );
      const started = Date.now();
      await runInputs(
        generateInputs(seed, counts, { mainPort: s.mainPort, metricsPort: s.metricsPort, token }),
        (l) => (l === 'metrics' ? s.metricsPort : s.mainPort),
        {
          concurrency: 8,
          deadlineMs: 2000,
          tally,
          stopWhen: () => s.child.exitCode !== null,
        },
      );
      const alive = s.child.exitCode === null;
      const health = alive ? (await fetch(`http://127.0.0.1:${s.mainPort}/sync/health`)).status : 0;
      const uncaught = alive ? await uncaughtCount(s.metricsPort) : null;
      const line = `${summaryLine(seed, tally, alive && health === 200, uncaught)} store=${name}`;
      console.log(`${line} (${Math.round((Date.now() - started) / 1000)} s)`);
      console.log(`statuses of the raw-socket fuzz on ${name}: ${JSON.stringify(tally.byStatus)}`);
      summaries.push(line);
      mkdirSync('.tmp', { recursive: true });
      writeFileSync('.tmp/raw-socket-fuzz.txt', summaries.join('\n') + '\n');

      const context = `seed ${seed}\n${tally.failures.join('\n')}\nstderr:\n${s.stderr().slice(-3000)}`;
      expect(alive, context).toBe(true);
      expect(health, context).toBe(200);
      expect(tally.classes['5xx'], context).toBe(0);
      expect(uncaught, context).toBe(0);
      expect(s.stderr(), context).not.toMatch(/uncaught|unhandled|\n\s+at |"level":"error"/i);
      expect(tally.inputs.main + tally.inputs.upgrade + tally.inputs.metrics).toBe(total);
      // The inputs reached the faces (not just bouncing off the parser): handshakes and 2xx answers among them.
      if (total >= 1000) {
        expect(tally.classes['4xx']).toBeGreaterThan(total / 4);
        expect(tally.byStatus[101] ?? 0).toBeGreaterThan(0);
        expect(tally.classes['2xx']).toBeGreaterThan(0);
      }
    }, 240_000);
  },
);
