/** StrykerJS settings for `npm run mutation` (scripts/mutation.sh); MUTATION_PART=core mutates shared/ and server/engine/, MUTATION_PART=client the client's replica, transfer and retry code, each against its own test files. */
const part = process.env.MUTATION_PART === 'client' ? 'client' : 'core';
const mutate = {
  core: ['shared/**/*.ts', 'server/engine/**/*.ts', '!server/engine/types.ts'],
  client: ['client/replica.ts', 'client/transfer.ts', 'client/retry.ts'],
}[part];

export default {
  testRunner: 'vitest',
  vitest: { configFile: `scripts/mutation/vitest.${part}.config.ts`, related: false },
  // Resolved from @stryker-mutator/core's own install (.tmp/mutation-tools), whatever the cwd. Every
  // test-runner process loads it again, also the one Stryker starts after a timed-out mutant, and it
  // imports `vitest/node` from the project's node_modules: reinstalling node_modules during a run
  // (npm ci / npm install, also through a worktree's node_modules symlink) makes that restart fail
  // with "Cannot find TestRunner plugin \"vitest\"" and the run ends without a report.
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate,
  // Error texts and log strings: thousands of mutants that only change wording; left out to fit 2 cores.
  mutator: { excludedMutations: ['StringLiteral'] },
  // Mutants in module-level initialisers need every test re-run in a fresh process: left out (reported as ignored).
  ignoreStatic: true,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  ignorePatterns: ['.tmp', 'dist', 'bench', 'docs', 'examples'],
  // One sandbox folder per part, so the two parts can run side by side.
  tempDirName: `.tmp/stryker-tmp-${part}`,
  incremental: true,
  incrementalFile: `.tmp/mutation/stryker-incremental-${part}.json`,
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: `.tmp/mutation/mutation-${part}.json` },
  htmlReporter: { fileName: `.tmp/mutation/mutation-${part}.html` },
  clearTextReporter: {
    allowColor: false,
    logTests: false,
    reportMutants: true,
    reportScoreTable: true,
  },
  cleanTempDir: 'always',
};
