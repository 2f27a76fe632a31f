/** Prints a Markdown summary of StrykerJS JSON reports (score per file, every survivor with its line): `node scripts/mutation/report.mjs .tmp/mutation/mutation-core.json …`. */
import { readFileSync } from 'node:fs';

const DETECTED = new Set(['Killed', 'Timeout']);
const COUNTED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
const rows = [];
const survivors = [];
for (const path of process.argv.slice(2)) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    const lines = source.split('\n');
    const n = (status) => mutants.filter((m) => m.status === status).length;
    const counted = mutants.filter((m) => COUNTED.has(m.status)).length;
    const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
    if (counted === 0) continue;
    rows.push({
      file,
      killed: n('Killed'),
      timeout: n('Timeout'),
      survived: n('Survived'),
      noCoverage: n('NoCoverage'),
      ignored: n('Ignored'),
      pending: n('Pending'),
      score: (100 * detected) / counted,
      detected,
      counted,
    });
    for (const m of mutants.filter((m) => m.status === 'Survived')) {
      const { start, end } = m.location;
      const line = start.line;
      // The mutated text itself (several mutants share a line), then its line for context.
      const original =
        start.line === end.line
          ? lines[line - 1].slice(start.column - 1, end.column - 1)
          : `${lines[line - 1].slice(start.column - 1)} …`;
      const cell = (text, max) =>
        String(text).replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, max);
      survivors.push(
        `| \`${file}:${line}:${start.column}\` | ${m.mutatorName} | \`${cell(original, 50)}\` → \`${cell(m.replacement ?? '', 50)}\` | \`${cell(lines[line - 1].trim(), 80)}\` |`,
      );
    }
  }
}
rows.sort((a, b) => a.file.localeCompare(b.file));
const total = rows.reduce(
  (t, r) => ({ detected: t.detected + r.detected, counted: t.counted + r.counted }),
  { detected: 0, counted: 0 },
);
console.log(
  `Score: ${((100 * total.detected) / Math.max(1, total.counted)).toFixed(1)} % (${total.detected} detected of ${total.counted} tested or uncovered mutants)\n`,
);
console.log(
  '| file | killed | timeout | survived | no coverage | ignored (static) | not run (interrupted) | score |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
);
for (const r of rows)
  console.log(
    `| \`${r.file}\` | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${r.ignored} | ${r.pending} | ${r.score.toFixed(1)} % |`,
  );
console.log(
  `\n| survivor | mutator | mutated → replacement | line |\n| --- | --- | --- | --- |\n${survivors.join('\n')}`,
);
