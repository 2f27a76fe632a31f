#!/usr/bin/env node
/**
 * The installed `trpc-offline-sync` command: loads the CLI, and when optional peers it needs are
 * not installed (ws, jose, prom-client; PGlite for the embedded store), names every missing one
 * and the command that installs them.
 */
import { missingPeerMessage, missingPeerOf } from './peers.js';

/** The optional peers every command of the CLI loads. */
const CLI_PEERS = ['ws', 'jose', 'prom-client'];

const installed = (pkg: string): boolean => {
  try {
    import.meta.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

try {
  await import('./cli.js');
} catch (error) {
  const pkg = missingPeerOf(error);
  if (!pkg) throw error;
  const missing = [...new Set([pkg, ...CLI_PEERS.filter((p) => !installed(p))])];
  process.stderr.write(
    missing.length === 1
      ? `error: ${missingPeerMessage(pkg)}\n`
      : `error: trpc-offline-sync needs the optional peer dependencies ${missing.join(', ')}, not installed: npm install ${missing.join(' ')}\n`,
  );
  process.exit(1);
}
