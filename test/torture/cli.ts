/** `npm run torture`: one fault-injected run with the size, seed and duration given as flags or TORTURE_* variables; exit 1 on any violation. */
import { readOptions } from './options.js';
import { runTorture } from './run.js';

const options = readOptions(process.argv.slice(2), process.env);
const result = await runTorture(options, (line) => console.log(line));
for (const note of result.notes) console.log(`note: ${note}`);
process.exit(result.check.ok ? 0 : 1);
