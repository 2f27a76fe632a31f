/**
 * The React Native sample (`examples/react-native/`) type-checks against the real `react-native`,
 * `expo-sqlite`, NetInfo and React types: the client, `sqliteLocalStore` + `expoSqliteDriver`, the
 * hooks and a token source as an Expo app uses them. Its packages live in the sample's own
 * `node_modules` (`.ci/run` installs them); without them the test is skipped outside CI and fails in CI.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runTsc } from './tsc.js';

const SAMPLE = path.join(ROOT, 'examples/react-native');
const installed =
  existsSync(path.join(SAMPLE, 'node_modules/react-native/package.json')) &&
  existsSync(path.join(SAMPLE, 'node_modules/expo-sqlite/package.json'));
if (!installed)
  console.log(
    `react-native sample typecheck: skipped: run \`npm ci --prefix examples/react-native\` first${process.env.CI ? ' (CI: this fails)' : ''}`,
  );

describe('React Native sample', () => {
  it.runIf(installed || process.env.CI)(
    'type-checks against react-native, expo-sqlite and React types',
    async () => {
      expect(
        installed,
        'examples/react-native/node_modules is missing (npm ci --prefix examples/react-native)',
      ).toBe(true);
      const result = await runTsc(SAMPLE);
      expect(result.output).toBe('');
      expect(result.code).toBe(0);
    },
    200_000,
  );
});
