/** Client processes under the harness: fork, kill -9, restart on the same SQLite file and history, and their reports. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientConfig, ClientReport } from './client-process.js';

const PROGRAM = fileURLToPath(new URL('./client-process.ts', import.meta.url));

/** One client of the run, across its lives (each kill -9 and restart is a new process on the same files). */
export class ClientHandle {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** The last reports of the current life, by type. */
  readonly reports = new Map<ClientReport['type'], ClientReport>();
  /** True once some life of it reported writing all its changes. */
  wrote = false;
  /** Lives so far. */
  lives = 0;
  /** The last lines it wrote to stderr (for a failure report). */
  private errors = '';

  constructor(readonly config: ClientConfig) {}

  /** Starts a life and resolves once its client has started (or rejects after `timeoutMs`). */
  async start(timeoutMs = 60_000): Promise<void> {
    this.reports.clear();
    this.lives++;
    const child = fork(PROGRAM, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, TORTURE_CLIENT: JSON.stringify(this.config) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    child.stderr!.on(
      'data',
      (d: Buffer) => (this.errors = (this.errors + d.toString()).slice(-4000)),
    );
    child.on('message', (report: ClientReport) => {
      this.reports.set(report.type, report);
      if (report.type === 'wrote') this.wrote = true;
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await this.waitFor('ready', timeoutMs);
  }

  /** True while the current life runs. */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for a report of `type` from the current life (polling, bounded). */
  async waitFor(type: ClientReport['type'], timeoutMs: number): Promise<ClientReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const report = this.reports.get(type);
      if (report) return report;
      if (!this.running)
        throw new Error(`client ${this.config.index} exited before '${type}':\n${this.errors}`);
      if (Date.now() > deadline)
        throw new Error(
          `client ${this.config.index}: no '${type}' within ${timeoutMs} ms\n${this.errors}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends an order to the current life. */
  order(type: 'drain' | 'final', ms: number): void {
    this.reports.delete(type === 'drain' ? 'drained' : 'final');
    this.child?.send({ type, ms });
  }

  /** kill -9: the SQLite file and the history stay as the process left them. */
  async kill9(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** What the process wrote to stderr lately. */
  stderr(): string {
    return this.errors;
  }
}
