/** Full garbage collections after the embedded store opened: they free the WebAssembly memory of PGlite's throwaway initdb instance. */
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** `gc()`, exposed at run time when the process was not started with `--expose-gc`; null where V8 refuses. */
function exposedGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

/**
 * On a fresh data directory PGlite runs `initdb` in a second WebAssembly instance and closes it,
 * but V8 returns that instance's memory only after full GCs, which an idle server never triggers:
 * `npm start` on an empty directory idled at ~750 MB RSS instead of ~390 MB. One GC is not enough
 * (the instance is released over a few cycles, finalizers run in between), so this runs `rounds`
 * GCs a few milliseconds apart. The CLI has no room for `--expose-gc` (a `#!/usr/bin/env node` bin
 * and a `tsx` script), so the flag is set at run time and `gc` is taken from a fresh context, where
 * V8 installs it. Resolves with whether GCs ran.
 */
export async function releaseMemory(rounds = 4): Promise<boolean> {
  const gc = exposedGc();
  if (!gc) return false;
  for (let i = 0; i < rounds; i++) {
    gc();
    await sleep(20);
  }
  return true;
}
