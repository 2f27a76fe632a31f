/** PostgreSQL control for the restart test: a private throwaway cluster (scripts/pg-test-cluster.sh) and `pg_ctl restart -m fast` on it. */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The newest `/usr/lib/postgresql/<major>/bin` holding pg_ctl, or PG_BINDIR when set. */
export function pgBinDir(major?: number): string | null {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .map(Number)
    .sort((a, b) => a - b);
  const pick = major !== undefined && versions.includes(major) ? major : versions.at(-1);
  return pick === undefined ? null : join(root, String(pick), 'bin');
}

/** Runs a shell command as the `postgres` user when we are root (clusters belong to it), else as ourselves. */
async function asPostgres(command: string, timeoutMs: number): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const [file, args] = isRoot
    ? ['su', ['postgres', '-s', '/bin/sh', '-c', command]]
    : ['sh', ['-c', command]];
  await run(file, args, { timeout: timeoutMs });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Where the cluster of `url` lives: data directory (from the server itself) and its pg_ctl. */
async function locate(url: string): Promise<{ dataDir: string; pgCtl: string; log: string }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  let dataDir: string;
  let major: number;
  try {
    dataDir = (await c.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!
      .data_directory;
    major = Math.floor(
      Number(
        (await c.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!
          .server_version_num,
      ) / 10000,
    );
  } finally {
    await c.end();
  }
  const bin = pgBinDir(major);
  if (!bin) throw new Error('pg-control: pg_ctl not found (set PG_BINDIR)');
  // -l keeps the restarted server's output off our pipes (the script logs next to the data dir).
  return { dataDir, pgCtl: join(bin, 'pg_ctl'), log: join(dirname(dataDir), 'log.txt') };
}

/**
 * `pg_ctl restart -m fast -w` on the cluster `url` points at: the data directory comes from
 * `SHOW data_directory`, pg_ctl from the matching major version. Every connection is cut.
 */
export async function restartPostgres(url: string, timeoutMs = 60_000): Promise<void> {
  const { dataDir, pgCtl, log } = await locate(url);
  // restart reuses the options of the last start (postmaster.opts).
  await asPostgres(`${q(pgCtl)} -D ${q(dataDir)} -l ${q(log)} restart -m fast -w -t 30`, timeoutMs);
}

/**
 * An outage: `pg_ctl stop -m fast`, `downMs` with no server at all (connections refused, longer
 * than the store's own retries last), then a start with the options of the last start.
 */
export async function outagePostgres(
  url: string,
  downMs: number,
  timeoutMs = 60_000,
): Promise<void> {
  const { dataDir, pgCtl, log } = await locate(url);
  // postmaster.opts: `<postgres> "-D" "<dir>" "-c" "x=y" ...`, the command line of the last start.
  const opts = readFileSync(join(dataDir, 'postmaster.opts'), 'utf8');
  const args = [...opts.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  const options: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-D') i++;
    else options.push(args[i]!);
  }
  await asPostgres(`${q(pgCtl)} -D ${q(dataDir)} stop -m fast -w -t 30`, timeoutMs);
  await new Promise((r) => setTimeout(r, downMs));
  const o = options.map((a) => `'${a}'`).join(' ');
  await asPostgres(
    `${q(pgCtl)} -D ${q(dataDir)} -l ${q(log)} -o ${q(o)} start -w -t 30`,
    timeoutMs,
  );
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A throwaway cluster of our own, so restarting it does not disturb suites running on the shared one. */
export interface PrivateCluster {
  url: string;
  restart(): Promise<void>;
  /** Stopped for `downMs`, then started again. */
  outage(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a private cluster with `scripts/pg-test-cluster.sh start` on a free port (needs root and
 * installed PostgreSQL binaries, as the shared test cluster does). Answers a reason string when
 * that is not possible here.
 */
export async function startPrivateCluster(): Promise<PrivateCluster | string> {
  if (process.getuid?.() !== 0)
    return 'needs root to run a private PostgreSQL cluster (scripts/pg-test-cluster.sh)';
  if (!pgBinDir()) return 'PostgreSQL binaries not found under /usr/lib/postgresql (set PG_BINDIR)';
  const port = await freePort();
  const env = { ...process.env, PGPORT: String(port) };
  const { stdout } = await run('bash', ['scripts/pg-test-cluster.sh', 'start'], {
    env,
    timeout: 60_000,
  });
  const m = /TEST_DATABASE_URL=(\S+)/.exec(stdout);
  if (!m) throw new Error(`pg-test-cluster.sh printed no TEST_DATABASE_URL:\n${stdout}`);
  const url = m[1]!;
  return {
    url,
    restart: () => restartPostgres(url),
    outage: (downMs) => outagePostgres(url, downMs),
    stop: async () => {
      await run('bash', ['scripts/pg-test-cluster.sh', 'stop'], { env, timeout: 60_000 });
    },
  };
}
