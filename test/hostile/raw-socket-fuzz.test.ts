/** Raw-socket fuzzer against the real CLI server (embedded PGlite): ≥ 5,000 seeded byte sequences over every listener (main port faces, WebSocket upgrades, the metrics port); the process stays up, nothing answers 5xx, nothing escapes to the process-level net. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevToken } from '../../server/auth/jwt.js';
import { generateInputs, inputCounts, newTally, runInputs, summaryLine, type FuzzTally } from './raw-socket.js';

const SECRET = 'raw-socket-fuzz-secret-0123456789abcdef';
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
const total = process.env.FUZZ_RAW_INPUTS ? Number(process.env.FUZZ_RAW_INPUTS) : 5200;
if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`FUZZ_SEED: expected a non-negative integer, got "${process.env.FUZZ_SEED}"`);
if (!Number.isSafeInteger(total) || total < 1) throw new Error(`FUZZ_RAW_INPUTS: expected a positive integer, got "${process.env.FUZZ_RAW_INPUTS}"`);
const dir = mkdtempSync(join(tmpdir(), 'sync-raw-fuzz-'));

interface Served {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  mainPort: number;
  metricsPort: number;
}

/** Starts `trpc-offline-sync serve` on PGlite in a temp dir with `/metrics` on a port of its own. */
async function serve(): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve'], {
    env: { ...process.env, PORT: '0', SYNC_JWT_SECRET: SECRET, SYNC_DATA_DIR: join(dir, 'data'), SYNC_METRICS_PORT: '0', SYNC_LOG: 'error',
      // A per-IP limit too high to refuse anything, behind one trusted proxy: every input's X-Forwarded-For is parsed.
      SYNC_RATE_LIMIT_IP: '1000000/1s', SYNC_TRUST_PROXY: '1' },
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
    if (main && metrics) return { child, stdout: () => out, stderr: () => err, exited, mainPort: Number(main[1]), metricsPort: Number(metrics[1]) };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`CLI did not start:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `sync_uncaught_errors_total` as scraped from the metrics port, or null when it is not there. */
async function uncaughtCount(metricsPort: number): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = /^sync_uncaught_errors_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : null;
}

describe('raw-socket fuzz of every listener of the CLI server', () => {
  let s: Served;
  beforeAll(async () => void (s = await serve()), 120_000);
  afterAll(async () => {
    if (s && s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it(`survives ${total} seeded inputs: 4xx or a close for each, never a 5xx, the process alive`, async () => {
    const token = await signDevToken(SECRET, { sub: 'fuzz', tenant: 'fuzz', expiresIn: '1h' });
    const counts = inputCounts(total);
    const tally: FuzzTally = newTally();
    console.log(`seed ${seed} for the raw-socket fuzz (FUZZ_SEED=${seed} replays this run)`);
    const started = Date.now();
    await runInputs(generateInputs(seed, counts, { mainPort: s.mainPort, metricsPort: s.metricsPort, token }), (l) => (l === 'metrics' ? s.metricsPort : s.mainPort), {
      concurrency: 8,
      deadlineMs: 2000,
      tally,
      stopWhen: () => s.child.exitCode !== null,
    });
    const alive = s.child.exitCode === null;
    const health = alive ? (await fetch(`http://127.0.0.1:${s.mainPort}/sync/health`)).status : 0;
    const uncaught = alive ? await uncaughtCount(s.metricsPort) : null;
    const line = summaryLine(seed, tally, alive && health === 200, uncaught);
    console.log(`${line} (${Math.round((Date.now() - started) / 1000)} s)`);
    console.log(`statuses of the raw-socket fuzz: ${JSON.stringify(tally.byStatus)}`);
    mkdirSync('.tmp', { recursive: true });
    writeFileSync('.tmp/raw-socket-fuzz.txt', line + '\n');

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
});
