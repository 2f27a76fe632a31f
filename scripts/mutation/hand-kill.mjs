/**
 * Checks survivors of a StrykerJS JSON report against tests written after that run, without a
 * second Stryker run: applies each mutant to its file (in the current tree), runs the named test
 * files with vitest, records killed (a test failed) or survived, and restores the file. Run it in
 * a scratch worktree (`git worktree add`), never while the file has uncommitted edits.
 *
 *   node scripts/mutation/hand-kill.mjs REPORT FILE ID[,ID…]|survivors -- TEST_FILE…
 *
 * The report's embedded source must match FILE as it is now (else it refuses: line and column
 * would point elsewhere). Prints one line per mutant and a summary.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const [reportPath, file, ids, dashes, ...tests] = process.argv.slice(2);
if (!reportPath || !file || !ids || dashes !== '--' || tests.length === 0) {
  console.error('usage: hand-kill.mjs REPORT FILE ID[,ID…]|survivors -- TEST_FILE…');
  process.exit(2);
}
const entry = JSON.parse(readFileSync(reportPath, 'utf8')).files[file];
if (!entry) throw new Error(`${file}: not in ${reportPath}`);
const original = readFileSync(file, 'utf8');
if (original !== entry.source)
  throw new Error(`${file} differs from the source the report was made from`);
const wanted =
  ids === 'survivors'
    ? entry.mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    : ids.split(',').map((id) => {
        const m = entry.mutants.find((x) => x.id === id);
        if (!m) throw new Error(`no mutant ${id}`);
        return m;
      });

/** Offset of a 1-based line and column in `text`. */
function offset(text, { line, column }) {
  let at = 0;
  for (let l = 1; l < line; l++) at = text.indexOf('\n', at) + 1;
  return at + column - 1;
}

/** A mutant that makes a test wait forever fails it after this long (HAND_KILL_TIMEOUT_MS), not the suite's usual timeout. */
const TEST_TIMEOUT = Number(process.env.HAND_KILL_TIMEOUT_MS ?? 10_000);
const results = [];
try {
  for (const m of wanted) {
    const start = offset(original, m.location.start);
    const end = offset(original, m.location.end);
    writeFileSync(file, original.slice(0, start) + m.replacement + original.slice(end));
    const run = spawnSync(
      process.execPath,
      [
        'node_modules/vitest/vitest.mjs',
        'run',
        '--bail=1',
        `--testTimeout=${TEST_TIMEOUT}`,
        ...tests,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
        // A mutant that leaves work running after its test failed can keep vitest from exiting: counted as killed (as Stryker counts a timeout).
        timeout: Number(process.env.HAND_KILL_RUN_TIMEOUT_MS ?? 120_000),
      },
    );
    const killed = run.status !== 0;
    results.push({ id: m.id, killed });
    console.log(
      `${killed ? 'killed  ' : 'SURVIVED'} ${m.id} ${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} → ${String(m.replacement).replace(/\s+/g, ' ').slice(0, 60)}`,
    );
  }
} finally {
  writeFileSync(file, original);
}
const killed = results.filter((r) => r.killed).length;
console.log(`${killed} of ${results.length} killed by ${tests.join(' ')}`);
