/** Benchmark arithmetic and output: percentiles, result entries, targets and the printed table. */

/** One line of `bench/results.json`. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The raw store doing the same work in the same run (or the comparison point for latencies). */
  baseline: number | null;
  /** value ÷ baseline for throughputs (1.0 = as fast as raw); null where no ratio applies. */
  ratio: number | null;
}

/** A target from the issue: which number of an entry it applies to and the bound. */
interface Target {
  on: 'ratio' | 'value';
  op: '>=' | '<' | '<=';
  bound: number;
}

/** Targets by entry name without the `pg.` / `pglite.` prefix. */
const TARGETS: Record<string, Target> = {
  'push.batch50': { on: 'ratio', op: '>=', bound: 0.3 },
  'pull.500': { on: 'ratio', op: '>=', bound: 0.5 },
  // Integrity checksums (issue 16): with them vs without, same run.
  'integrity.push.batch50': { on: 'ratio', op: '>=', bound: 0.9 },
  'integrity.pull.500': { on: 'ratio', op: '>=', bound: 0.9 },
  'integrity.client.pull.5k.memory': { on: 'ratio', op: '>=', bound: 0.9 },
  'integrity.client.pull.5k.sqlite': { on: 'ratio', op: '>=', bound: 0.9 },
  'integrity.client.put.memory': { on: 'ratio', op: '>=', bound: 0.9 },
  'full.100k': { on: 'ratio', op: '>=', bound: 0.3 },
  'full.100k.rss_growth_mb': { on: 'value', op: '<', bound: 50 },
  'rest.full.100k': { on: 'ratio', op: '>=', bound: 0.3 },
  'rest.full.100k.rss_growth_mb': { on: 'value', op: '<', bound: 50 },
  'fanout.1000.p95_ratio': { on: 'value', op: '<=', bound: 3 },
  // What the sync path adds over a bare ws broadcast of the same frame to the same sockets.
  'fanout.1000.p95_vs_raw_ws': { on: 'value', op: '<=', bound: 1.5 },
  // The client library: local write cost must not grow with the store; batches near raw; sync overhead <= 25 %.
  'client.local.put.10k_vs_1k.memory': { on: 'ratio', op: '>=', bound: 0.8 },
  'client.local.put.10k_vs_1k.sqlite': { on: 'ratio', op: '>=', bound: 0.8 },
  'client.local.putMany.10k.memory': { on: 'ratio', op: '>=', bound: 0.5 },
  'client.local.putMany.10k.sqlite': { on: 'ratio', op: '>=', bound: 0.5 },
  'client.sync.push.10k.memory': { on: 'ratio', op: '>=', bound: 0.8 },
  'client.sync.pull.10k.memory': { on: 'ratio', op: '>=', bound: 0.8 },
  'client.sync.push.10k.sqlite': { on: 'ratio', op: '>=', bound: 0.8 },
  'client.sync.pull.10k.sqlite': { on: 'ratio', op: '>=', bound: 0.8 },
  'client.full.100k.rss_growth_mb': { on: 'value', op: '<', bound: 100 },
  'client.bundle.gzip_kb': { on: 'value', op: '<', bound: 25 },
  // Views (issue 19): a user's share of a big tenant vs. a tenant holding only that share; fan-out to the matching few.
  'views.first_sync': { on: 'ratio', op: '<=', bound: 2 },
  'views.pull.incremental': { on: 'ratio', op: '<=', bound: 2 },
  'views.fanout.p95': { on: 'ratio', op: '<=', bound: 1.5 },
  'views.fanout.subscribers_told_per_commit': { on: 'value', op: '<=', bound: 10 },
  'views.refresh.streams_told_to_resync': { on: 'value', op: '<=', bound: 1 },
  'views.refresh.pulls_told_to_resync_of_10': { on: 'value', op: '<=', bound: 1 },
};

/** The `q`-quantile (0..1) of `values`, nearest-rank on a sorted copy; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Rounds to a few significant digits for JSON and the table. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** Math.max(0, digits - 1 - magnitude);
  return Math.round(value * factor) / factor;
}

/** A throughput entry with its raw baseline and ratio (both rounded). */
export function throughput(
  name: string,
  value: number,
  unit: string,
  baseline: number | null,
): BenchResult {
  const ratio = baseline && baseline > 0 ? value / baseline : null;
  return {
    name,
    value: round(value),
    unit,
    baseline: baseline === null ? null : round(baseline),
    ratio: ratio === null ? null : round(ratio),
  };
}

/** An entry without a ratio (latency, memory, time to first byte). */
export function measure(
  name: string,
  value: number,
  unit: string,
  baseline: number | null = null,
): BenchResult {
  return {
    name,
    value: round(value),
    unit,
    baseline: baseline === null ? null : round(baseline),
    ratio: null,
  };
}

/** PASS / BELOW against the target, or '' when the entry has none. */
export function verdict(result: BenchResult): { target: string; verdict: string } {
  const target = TARGETS[result.name.replace(/^(pg|pglite)\./, '')];
  if (!target) return { target: '', verdict: '' };
  const subject = target.on === 'ratio' ? result.ratio : result.value;
  const label = `${target.on === 'ratio' ? 'ratio' : 'value'} ${target.op} ${target.bound}`;
  if (subject === null || !Number.isFinite(subject)) return { target: label, verdict: 'n/a' };
  const ok =
    target.op === '>='
      ? subject >= target.bound
      : target.op === '<'
        ? subject < target.bound
        : subject <= target.bound;
  return { target: label, verdict: ok ? 'PASS' : 'BELOW' };
}

/** The results as an aligned text table with targets and verdicts. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['name', 'value', 'unit', 'baseline', 'ratio', 'target', ''];
  const rows = results.map((r) => {
    const v = verdict(r);
    return [
      r.name,
      String(r.value),
      r.unit,
      r.baseline === null ? '-' : String(r.baseline),
      r.ratio === null ? '-' : r.ratio.toFixed(2),
      v.target,
      v.verdict,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const numeric = new Set([1, 3, 4]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
