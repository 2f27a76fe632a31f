/**
 * `npm start` as a user runs it: the server stops when its npm parent is signalled (`kill <npm
 * pid>`), its data closed cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listeningPort, type CliRun } from '../cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sync-npm-start-'));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (Linux /proc). */
function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Every descendant of `pid`. */
const descendants = (pid: number): number[] => children(pid).flatMap((c) => [c, ...descendants(c)]);

describe('npm start', () => {
  it('stops the server when npm itself is killed (SIGTERM to the npm pid)', async () => {
    const child = spawn('npm', ['start'], {
      env: {
        ...process.env,
        PORT: '0',
        SYNC_DATA_DIR: join(dir, 'data'),
        SYNC_JWT_SECRET: 'npm-start-secret-npm-start-secret-npm',
        SYNC_LOG: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child.pid!);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const run: CliRun = {
      child,
      output: () => out,
      exited: new Promise((r) => child.on('exit', r)),
    };
    const port = await listeningPort(run, undefined, 150_000);
    const servers = descendants(child.pid!);
    started.push(...servers);
    expect(servers.length).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/sync/health`)).status).toBe(200);

    process.kill(child.pid!, 'SIGTERM'); // what `kill <npm pid>` does
    await run.exited;
    // Every process npm started goes away on its own; the server says why and closes its store.
    const deadline = Date.now() + 30_000;
    while (servers.some(alive) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(servers.filter(alive)).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/sync/health`)).rejects.toThrow();
    expect(out).toContain('npm parent exited: shutting down');
  }, 240_000); // npm, tsx and a PGlite start: slow on a busy machine
});
