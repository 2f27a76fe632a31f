/** The real `trpc-offline-sync` CLI as a child process for tests: spawn it, read its output, wait for "listening on". */
import { spawn, type ChildProcess } from 'node:child_process';
import { CliError, readConfig } from '../server/cli/config.js';

/** A running (or exited) CLI process. */
export interface CliRun {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved. */
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns `server/cli.ts` with `args`; `PORT=0` and `SYNC_JWT_SECRET=secret` unless `env` says otherwise. */
export function spawnCli(args: string[], secret: string, env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], {
    env: { ...process.env, PORT: '0', SYNC_JWT_SECRET: secret, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Waits until `run` prints its listening line (matched by `pattern`, port in group 1); throws with its output if it exits or takes `timeoutMs`. */
export async function listeningPort(
  run: CliRun,
  pattern = /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(run.output());
    if (m) return Number(m[1]);
    if (Date.now() > deadline || run.child.exitCode !== null)
      throw new Error(`CLI did not start:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The one-line message `serve` would stop with for `env` (a `CliError` from `readConfig`); fails when the config is accepted. */
export function cliRefusal(env: Record<string, string>): string {
  try {
    readConfig(['serve'], env);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return error.message;
  }
  throw new Error(`expected serve to refuse ${JSON.stringify(env)} with a CliError`);
}
