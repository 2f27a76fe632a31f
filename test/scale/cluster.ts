/** Scale-out fixtures: fresh databases on the test cluster and real `serve` processes (spawn, SIGKILL, cleanup). */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { signDevToken } from '../../server/auth/jwt.js';

/** The HS256 secret every server process of a test shares. */
export const SECRET = 'scale-test-secret-0123456789abcdef0123';

/** A bearer token for `user` in `tenant`, valid long enough for any test. */
export function tokenFor(user: string, tenant: string): Promise<string> {
  return signDevToken(SECRET, { sub: user, tenant, expiresIn: 3600 });
}

/** `url` with its database name replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a fresh database on the cluster of `adminUrl`; `drop()` removes it (disconnecting leftovers). */
export async function freshDatabase(
  adminUrl: string,
  prefix = 'scale',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** One `trpc-offline-sync serve` child process. */
export interface ServerProcess {
  /** Short name for messages (`s0`, `s1`, ...). */
  name: string;
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  /** `kill -9`: no shutdown hook runs, open connections just drop. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ServerProcess>();
// Even if the test process ends abruptly, its server processes must not outlive it.
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+) /;

/**
 * Spawns `node --import tsx server/cli.ts serve` on 127.0.0.1 with PORT=0 against `databaseUrl`
 * (plus `args`, e.g. `--schema FILE`) and resolves once it prints its `listening on` line (rejects
 * with its output otherwise).
 */
export async function startServer(
  name: string,
  databaseUrl: string,
  timeoutMs = 60_000,
  args: readonly string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve', ...args], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: databaseUrl,
      SYNC_JWT_SECRET: SECRET,
      MONGODB_URI: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const proc: ServerProcess = {
    name,
    child,
    port: 0,
    base: '',
    output: () => out,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      running.delete(proc);
    },
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(proc);
    },
  };
  running.add(proc);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = LISTENING.exec(out);
    if (m) {
      proc.port = Number(m[1]);
      proc.base = `http://127.0.0.1:${proc.port}`;
      return proc;
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await proc.kill9();
      throw new Error(`server ${name} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `n` servers on one database, in parallel. */
export function startServers(n: number, databaseUrl: string): Promise<ServerProcess[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => startServer(`s${i}`, databaseUrl)));
}

/** Kills every server process still running (for afterAll): SIGKILL, nothing to wait for. */
export async function killAllServers(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill9()));
}

/** Sleeps `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
