/** Memory probes: a forced GC without `--expose-gc`, and peak-RSS sampling of this or another process. */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null | undefined;

/**
 * Runs a full GC. `npm run bench` is `tsx bench/run.ts` (no room for `--expose-gc`), so the flag
 * is set at run time and `gc` is taken from a fresh context, where V8 then installs it.
 */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (existing) gcFn = existing;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      } catch {
        gcFn = null;
      }
    }
  }
  if (!gcFn) return false;
  gcFn();
  gcFn();
  return true;
}

/** Resident set size of a process in bytes (`/proc/<pid>/status` VmRSS; this process: `process.memoryUsage.rss()`). */
export function rssOf(pid?: number): number {
  if (pid === undefined || pid === process.pid) return process.memoryUsage.rss();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** Samples RSS of `pid` (default: this process) every `everyMs` and keeps the peak. */
export class RssSampler {
  readonly start: number;
  #peak: number;
  #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly pid?: number,
    everyMs = 5,
  ) {
    this.start = rssOf(pid);
    this.#peak = this.start;
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    try {
      const rss = rssOf(this.pid);
      if (rss > this.#peak) this.#peak = rss;
    } catch {
      // the process ended
    }
  }

  /** Highest RSS seen so far, in bytes. */
  get peak(): number {
    return this.#peak;
  }

  /** Stops sampling; the growth from start to peak in MB. */
  stop(): number {
    this.sample();
    clearInterval(this.#timer);
    return (this.#peak - this.start) / (1024 * 1024);
  }
}
