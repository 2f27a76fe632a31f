#!/usr/bin/env node
/** The `trpc-offline-sync` command: `serve`, `init`, `verify` and `token`; bad input and unreachable databases end with one line and exit code 1. */
import { CliError, HELP, readConfig } from './cli/config.js';
import { runInit } from './cli/init.js';
import { runServe } from './cli/serve.js';
import { runToken } from './cli/token.js';
import { runVerify } from './cli/verify.js';
import { watchParent } from './cli/parent-watch.js';

const log = (line: string): void => void process.stdout.write(line + '\n');
const fail = (error: unknown): never => {
  const message =
    error instanceof CliError
      ? error.message
      : `${(error as Error)?.message ?? String(error)}`.split('\n')[0];
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
};

async function main(): Promise<void> {
  // `token` has flags of its own (--sub, --tenant, --expires): parsed by its module. `npm start -- token …`
  // arrives as `serve token …` (the start script names serve), read as `token …` too.
  const at =
    process.argv[2] === 'token'
      ? 3
      : process.argv[2] === 'serve' && process.argv[3] === 'token'
        ? 4
        : 0;
  if (at)
    return runToken(
      process.argv.slice(at),
      process.env,
      log,
      (line) => void process.stderr.write(line + '\n'),
    );
  const config = readConfig(process.argv.slice(2), process.env);
  if (config.command === 'help') return void log(HELP);
  if (config.command === 'init') return runInit(config, log);
  if (config.command === 'verify') return void (process.exitCode = await runVerify(config, log));
  const { stop } = await runServe(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    stop().then(() => process.exit(0), fail);
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // `npm start`: npm, when killed, leaves its child running; stop with it.
  watchParent(() => shutdown('npm parent exited'));
}

main().catch(fail);
