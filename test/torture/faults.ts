/**
 * The fault schedule: injects latency, cuts, stalls, partitions, server and client kills and
 * PostgreSQL restarts at random (seeded) times, the least-injected kind first, so every kind gets
 * its share; counts what it did.
 */
import type { FaultProxy, ProxyLink, Direction } from './proxy.js';
import type { Rng } from './rng.js';

/** Faults the harness injects (clients also go offline by themselves: counted from their histories). */
export const FAULT_KINDS = [
  'latency',
  'cut-request',
  'cut-response',
  'stall',
  'partition-one-way',
  'partition-two-way',
  'server-kill',
  'client-kill',
  'pg-restart',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What the schedule acts on. */
export interface FaultTargets {
  proxy: FaultProxy;
  clients: number;
  servers: number;
  /** kill -9 of server `s`, then a restart after `downMs` (resolves once it serves again). */
  killServer(s: number, downMs: number): Promise<void>;
  /** kill -9 of client `c`, then a restart after `downMs` on its files. */
  killClient(c: number, downMs: number): Promise<void>;
  /** A PostgreSQL restart (null when the run cannot restart it). */
  restartPostgres: (() => Promise<void>) | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs faults until `until()` says stop; `counts` holds what was injected so far. */
export class FaultSchedule {
  readonly counts: Record<FaultKind | 'heal', number> = Object.fromEntries(
    [...FAULT_KINDS, 'heal'].map((k) => [k, 0]),
  ) as Record<FaultKind | 'heal', number>;
  readonly log: string[] = [];
  private readonly busy = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  readonly kinds: FaultKind[];

  constructor(
    private readonly t: FaultTargets,
    private readonly rng: Rng,
  ) {
    this.kinds = FAULT_KINDS.filter((k) => k !== 'pg-restart' || t.restartPostgres !== null);
  }

  /** Cuts that actually happened count (an armed cut fires on the next bytes through its link). */
  private refreshCuts(): void {
    const links = this.t.proxy.links.flat();
    this.counts['cut-request'] = links.reduce((n, l) => n + l.cutsDone.up, 0);
    this.counts['cut-response'] = links.reduce((n, l) => n + l.cutsDone.down, 0);
  }

  /** Injects one fault every `intervalMs` (± half) until `until()` is true. */
  async run(intervalMs: number, until: () => boolean): Promise<void> {
    while (!until()) {
      this.refreshCuts();
      const least = Math.min(...this.kinds.map((k) => this.counts[k]));
      const kind = this.rng.pick(
        this.kinds.filter((k) => this.counts[k] === least || this.rng.chance(0.15)),
      );
      this.inject(kind);
      await sleep(this.rng.int(Math.floor(intervalMs / 2), Math.ceil((intervalMs * 3) / 2)));
    }
    await Promise.all([...this.running]);
    this.refreshCuts();
  }

  private background(name: string, task: () => Promise<void>): void {
    this.busy.add(name);
    const p = task()
      .catch(
        (error: unknown) =>
          void this.log.push(`${name}: ${(error as Error).message.split('\n')[0]}`),
      )
      .finally(() => {
        this.busy.delete(name);
        this.running.delete(p);
      });
    this.running.add(p);
  }

  private someLinks(maxClients: number, maxServers: number): ProxyLink[] {
    const cs = new Set(
      Array.from({ length: this.rng.int(1, maxClients) }, () =>
        this.rng.int(0, this.t.clients - 1),
      ),
    );
    const ss = new Set(
      Array.from({ length: this.rng.int(1, maxServers) }, () =>
        this.rng.int(0, this.t.servers - 1),
      ),
    );
    return [...cs].flatMap((c) => [...ss].map((s) => this.t.proxy.links[c]![s]!));
  }

  private inject(kind: FaultKind): void {
    const r = this.rng;
    switch (kind) {
      case 'latency': {
        const links = this.someLinks(3, this.t.servers);
        const [latency, jitter, ms] = [r.int(20, 250), r.int(0, 150), r.int(1000, 4000)];
        this.counts.latency++;
        this.background(`latency#${this.counts.latency}`, async () => {
          for (const l of links) [l.latencyMs, l.jitterMs] = [latency, jitter];
          await sleep(ms);
          for (const l of links) l.latencyMs = l.jitterMs = 0;
        });
        return;
      }
      case 'cut-request':
      case 'cut-response': {
        // Armed on every server link of one client: the next bytes that way, wherever it talks, are torn.
        const c = r.int(0, this.t.clients - 1);
        const dir: Direction = kind === 'cut-request' ? 'up' : 'down';
        for (const l of this.t.proxy.links[c]!) l.cuts[dir] = 1;
        return;
      }
      case 'stall': {
        const link =
          this.t.proxy.links[r.int(0, this.t.clients - 1)]![r.int(0, this.t.servers - 1)]!;
        if (link.hold.up || link.hold.down) return;
        this.counts.stall++;
        const ms = r.int(500, 3000);
        this.background(`stall#${this.counts.stall}`, async () => {
          link.hold.up = link.hold.down = true;
          await sleep(ms);
          link.release('up');
          link.release('down');
        });
        return;
      }
      case 'partition-one-way':
      case 'partition-two-way': {
        const links = this.someLinks(4, 2).filter((l) => !l.hold.up && !l.hold.down);
        if (links.length === 0) return;
        const dirs: Direction[] =
          kind === 'partition-two-way' ? ['up', 'down'] : [r.pick(['up', 'down'] as const)];
        const ms = r.int(1000, 5000);
        const reset = r.chance(0.3);
        this.counts[kind]++;
        this.background(`${kind}#${this.counts[kind]}`, async () => {
          for (const l of links) for (const d of dirs) l.hold[d] = true;
          await sleep(ms);
          for (const l of links) for (const d of dirs) l.release(d, reset);
          this.counts.heal++;
        });
        return;
      }
      case 'server-kill': {
        const s = r.int(0, this.t.servers - 1);
        // At most one server down at a time: the run is about faults, not about having no server.
        if ([...this.busy].some((b) => b.startsWith('server'))) return;
        this.counts['server-kill']++;
        this.background(`server${s}`, () => this.t.killServer(s, r.int(300, 3000)));
        return;
      }
      case 'client-kill': {
        const c = r.int(0, this.t.clients - 1);
        if (this.busy.has(`client${c}`)) return;
        this.counts['client-kill']++;
        this.background(`client${c}`, () => this.t.killClient(c, r.int(200, 2000)));
        return;
      }
      case 'pg-restart': {
        if (!this.t.restartPostgres || this.busy.has('pg')) return;
        this.counts['pg-restart']++;
        this.background('pg', this.t.restartPostgres);
        return;
      }
    }
  }
}
