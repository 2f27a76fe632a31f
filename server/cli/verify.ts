/** `trpc-offline-sync verify --scope ID [--reset]`: recomputes a scope's integrity checksums from its stored documents and reports drift. */
import { verifyChecksums } from '../engine/checksums.js';
import type { CliConfig } from './config.js';
import { initStore, openStore } from './open-store.js';
import { loadSchema } from './schema-file.js';

/**
 * Prints one line per collection (kept and recomputed sums, live documents) and a summary;
 * returns the exit code: 0 when every sum agrees (or drifted ones were reset), 2 on a mismatch.
 */
export async function runVerify(config: CliConfig, log: (line: string) => void): Promise<number> {
  const schema = await loadSchema(config.schemaFile);
  const opened = await openStore(config, schema.names);
  await initStore(opened);
  try {
    const report = await verifyChecksums(opened.store, config.scope!, {
      reset: config.reset === true,
    });
    for (const c of report.collections)
      log(
        `${c.ok ? 'ok      ' : 'MISMATCH'} ${c.collection}: kept ${c.kept}, recomputed ${c.computed} (${c.docs} live documents)`,
      );
    const what =
      report.mismatches === 0
        ? 'all checksums agree'
        : `${report.mismatches} collection(s) drifted${report.reset ? ': kept checksums reset to the recomputed ones (clients repair at their next checkpoint)' : ' (run again with --reset to re-base them)'}`;
    log(`scope ${report.scope} at seq ${report.seq} on ${opened.description}: ${what}`);
    return report.mismatches > 0 && !report.reset ? 2 : 0;
  } finally {
    await opened.close();
  }
}
