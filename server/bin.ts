#!/usr/bin/env node
/**
 * The installed `trpc-offline-sync` command: loads the CLI, and when an optional peer it needs is
 * not installed (PGlite, ws, jose, prom-client), says which one and how to install it.
 */
import { missingPeerMessage, missingPeerOf } from './peers.js';

try {
  await import('./cli.js');
} catch (error) {
  const pkg = missingPeerOf(error);
  if (!pkg) throw error;
  process.stderr.write(`error: ${missingPeerMessage(pkg)}\n`);
  process.exit(1);
}
