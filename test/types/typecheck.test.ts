/**
 * The whole project type-checks under `tsc --noEmit` (strict), which is what makes the type tests
 * real: every `@ts-expect-error` in `test/types/*.types.ts` (type-only modules, never run) must be an error, and the examples
 * (the README's app router in `examples/embedded-server.ts`) must compile against the public API.
 */
import { describe, expect, it } from 'vitest';
import { ROOT, runTsc } from './tsc.js';

describe('types', () => {
  it('tsc --noEmit -p . reports no error (type tests, examples and sources included)', async () => {
    const result = await runTsc(ROOT);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 200_000);
});
