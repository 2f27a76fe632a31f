/**
 * The store-conformance suite: every invariant of the design, run against every store. A store's
 * test file only connects and calls `runStoreConformance({ name, newStore, skip })`.
 */
import { describe } from 'vitest';
import { useStore, type ConformanceOptions } from './fixture.js';
import { pushSuite } from './push.suite.js';
import { concurrencySuite } from './concurrency.suite.js';
import { mergeSuite } from './merge.suite.js';
import { pullSuite } from './pull.suite.js';
import { fullSuite } from './full.suite.js';
import { streamSuite } from './stream.suite.js';
import { isolationSuite } from './isolation.suite.js';
import { badInputSuite } from './bad-input.suite.js';
import { atomicitySuite } from './atomicity.suite.js';
import { oplogStatsSuite } from './oplog-stats.suite.js';
import { checksumsSuite } from './checksums.suite.js';
import { viewsSuite } from './views.suite.js';

export type { ConformanceOptions } from './fixture.js';

/**
 * Registers the whole suite for one store. A skipped store (e.g. MongoDB without `MONGODB_URI`)
 * registers every test as skipped, by name, with the reason in the suite's name, so reports count
 * each one instead of one placeholder.
 */
export function runStoreConformance(options: ConformanceOptions): void {
  if (options.skip)
    console.log(
      `skipped: ${options.skip} (${options.name} store conformance, every test listed as skipped)`,
    );
  const suite = options.skip ? describe.skip : describe;
  suite(
    `store conformance: ${options.name}${options.skip ? ` (skipped: ${options.skip})` : ''}`,
    () => {
      const ctx = useStore(options);
      pushSuite(ctx);
      concurrencySuite(ctx);
      mergeSuite(ctx);
      pullSuite(ctx, options);
      fullSuite(ctx);
      streamSuite(ctx);
      isolationSuite(ctx);
      badInputSuite(ctx);
      atomicitySuite(ctx);
      oplogStatsSuite(ctx);
      checksumsSuite(ctx);
      viewsSuite(ctx);
    },
  );
}
