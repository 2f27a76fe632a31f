/** The linter (layer import rules included) and the formatter pass over the whole tree. */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;

/** Runs a package's CLI with this Node; resolves with its output whatever its exit code. */
async function cli(pkg: string, args: string[]): Promise<{ code: number; out: string }> {
  const manifest = require.resolve(`${pkg}/package.json`, { paths: [root] });
  const { bin } = require(manifest) as { bin: string | Record<string, string> };
  const entry = join(dirname(manifest), typeof bin === 'string' ? bin : bin[pkg]);
  try {
    const { stdout } = await run(process.execPath, [entry, ...args], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: code ?? 1, out: `${stdout ?? ''}${stderr ?? ''}` };
  }
}

type EslintResult = {
  filePath: string;
  messages: { line: number; column: number; ruleId: string | null; message: string }[];
};

describe('lint', () => {
  it('eslint (recommended rules and the layer import rules) reports no problem', async () => {
    const { code, out } = await cli('eslint', ['--format', 'json', '.']);
    let problems: string[];
    try {
      problems = (JSON.parse(out) as EslintResult[]).flatMap((file) =>
        file.messages.map(
          (m) =>
            `${file.filePath.replace(root, '')}:${m.line}:${m.column} ${m.message} (${m.ruleId})`,
        ),
      );
    } catch {
      problems = [`eslint did not run (exit ${code}): ${out.slice(0, 2000)}`];
    }
    expect(problems).toEqual([]);
    expect(code).toBe(0);
  }, 300_000);

  it('prettier finds every file formatted (npm run format fixes it)', async () => {
    const { code, out } = await cli('prettier', ['--list-different', '.']);
    const unformatted = out.split('\n').filter((line) => line.trim() !== '');
    expect(unformatted).toEqual([]);
    expect(code).toBe(0);
  }, 300_000);
});
