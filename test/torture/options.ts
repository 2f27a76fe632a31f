/** Options of a torture run (size, seed, duration, fault rate), from CLI flags or TORTURE_* environment variables. */

/** What one torture run does. */
export interface TortureOptions {
  /** Seed of every random choice of the harness (clients derive theirs from it). @default random */
  seed: number;
  /** Client processes. @default 10 */
  clients: number;
  /** Server processes over one PostgreSQL. @default 3 */
  servers: number;
  /** Changes written by all clients together (a putMany counts each of its documents). @default 2000 */
  writes: number;
  /** Seconds the write phase aims to last (writes are paced to it); the run is bounded at twice this. @default 300 */
  duration: number;
  /** Faults of each harness-injected kind the run aims for (spread evenly over the write phase). @default 50 */
  faultsPerKind: number;
  /** Shared document ids the clients write to. @default 40 */
  docs: number;
  /** Seconds every client gets, after the last heal, to drain its outbox and converge. @default 90 */
  convergeSeconds: number;
  /** Where histories and the summary go. @default .tmp/torture */
  dir: string;
  /** Restart PostgreSQL (needs a private cluster: root and PostgreSQL binaries). @default true */
  pgRestarts: boolean;
}

export const DEFAULTS: TortureOptions = {
  seed: 0,
  clients: 10,
  servers: 3,
  writes: 2000,
  duration: 300,
  faultsPerKind: 50,
  docs: 40,
  convergeSeconds: 90,
  dir: '.tmp/torture',
  pgRestarts: true,
};

const NUMERIC = [
  'seed',
  'clients',
  'servers',
  'writes',
  'duration',
  'faultsPerKind',
  'docs',
  'convergeSeconds',
] as const;

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (name: string) => `TORTURE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * Reads `--clients 10 --servers 3 --writes 2000 --seed 42 --duration 300 --faults-per-kind 50
 * --docs 40 --converge-seconds 90 --dir D --no-pg-restarts` (or TORTURE_CLIENTS=… and so on) over `base`.
 */
export function readOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  base: Partial<TortureOptions> = {},
): TortureOptions {
  const out: TortureOptions = { ...DEFAULTS, seed: Math.floor(Math.random() * 2 ** 31), ...base };
  for (const name of NUMERIC) {
    const raw = env[envName(name)];
    if (raw !== undefined && raw !== '') out[name] = Number(raw);
  }
  if (env.TORTURE_DIR) out.dir = env.TORTURE_DIR;
  if (env.TORTURE_PG_RESTARTS === '0' || env.TORTURE_PG_RESTARTS === 'false')
    out.pgRestarts = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--no-pg-restarts') {
      out.pgRestarts = false;
      continue;
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const name = NUMERIC.find((n) => `--${kebab(n)}` === flag);
    const value = inline ?? argv[++i];
    if (name) out[name] = Number(value);
    else if (flag === '--dir' && value) out.dir = value;
    else
      throw new Error(
        `torture: unknown option ${arg} (known: ${NUMERIC.map((n) => `--${kebab(n)}`).join(' ')} --dir --no-pg-restarts)`,
      );
  }
  for (const name of NUMERIC) {
    if (!Number.isFinite(out[name]) || out[name] < 0)
      throw new Error(`torture: --${kebab(name)} must be a non-negative number, got ${out[name]}`);
  }
  if (out.clients < 1 || out.servers < 1 || out.docs < 1)
    throw new Error('torture: --clients, --servers and --docs must be at least 1');
  return out;
}

/** The options as one line, printed at the start of a run so it can be replayed. */
export function describeOptions(o: TortureOptions): string {
  return `torture: seed=${o.seed} clients=${o.clients} servers=${o.servers} writes=${o.writes} duration=${o.duration}s faults-per-kind=${o.faultsPerKind} docs=${o.docs} converge=${o.convergeSeconds}s pg-restarts=${o.pgRestarts ? 'yes' : 'no'} dir=${o.dir}`;
}
