/**
 * The fault proxy: one TCP listener on 127.0.0.1 per (client, server) pair, forwarding to the
 * server's current port, with added latency and jitter, held directions (stalls, one-way and
 * two-way partitions, released or reset at the heal) and connections cut mid-request or mid-response.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Rng } from './rng.js';

/** Client→server (`up`) or server→client (`down`). */
export type Direction = 'up' | 'down';

/** One open connection through a link: the two sockets and the bytes held per direction. */
interface Conn {
  client: Socket;
  server: Socket;
  held: Record<Direction, Buffer[]>;
  last: Record<Direction, number>;
  dead: boolean;
}

/** One (client, server) link and its switches. */
export class ProxyLink {
  /** Added delay of every chunk (ms), plus up to `jitterMs` more. */
  latencyMs = 0;
  jitterMs = 0;
  /** Held directions: bytes wait (as TCP retransmits would) until released. */
  readonly hold: Record<Direction, boolean> = { up: false, down: false };
  /** Cuts armed per direction: the next chunk that way is forwarded in part, then both sockets close. */
  readonly cuts: Record<Direction, number> = { up: 0, down: 0 };
  /** Cuts that happened, per direction. */
  readonly cutsDone: Record<Direction, number> = { up: 0, down: 0 };
  private readonly conns = new Set<Conn>();
  private server: Server | null = null;
  port = 0;

  constructor(
    readonly client: number,
    readonly serverIndex: number,
    /** The server's current port, or null while it is down (connections are then refused). */
    private readonly target: () => number | null,
    private readonly rng: Rng,
  ) {}

  /** Listens on a free port of 127.0.0.1. */
  async listen(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    const port = this.target();
    if (port === null) return void client.destroy();
    const server = connect(port, '127.0.0.1');
    const conn: Conn = {
      client,
      server,
      held: { up: [], down: [] },
      last: { up: 0, down: 0 },
      dead: false,
    };
    this.conns.add(conn);
    const end = () => this.kill(conn);
    client.on('data', (chunk: Buffer) => this.forward(conn, 'up', chunk));
    server.on('data', (chunk: Buffer) => this.forward(conn, 'down', chunk));
    for (const s of [client, server]) {
      s.on('error', end);
      s.on('close', end);
      s.setNoDelay(true);
    }
  }

  private kill(conn: Conn): void {
    if (conn.dead) return;
    conn.dead = true;
    conn.client.destroy();
    conn.server.destroy();
    this.conns.delete(conn);
  }

  private forward(conn: Conn, dir: Direction, chunk: Buffer): void {
    if (this.cuts[dir] > 0 && chunk.length > 0) {
      this.cuts[dir]--;
      this.cutsDone[dir]++;
      // Part of the chunk goes through (a request or an answer torn in the middle), then the connection drops.
      this.deliver(conn, dir, chunk.subarray(0, this.rng.int(0, chunk.length - 1)), () =>
        this.kill(conn),
      );
      return;
    }
    this.deliver(conn, dir, chunk);
  }

  private deliver(conn: Conn, dir: Direction, chunk: Buffer, then?: () => void): void {
    if (this.hold[dir]) {
      conn.held[dir].push(chunk);
      if (then) then();
      return;
    }
    const to = dir === 'up' ? conn.server : conn.client;
    const delay = this.latencyMs + (this.jitterMs > 0 ? this.rng.int(0, this.jitterMs) : 0);
    if (delay === 0 && conn.last[dir] <= Date.now()) {
      if (!conn.dead && chunk.length > 0) to.write(chunk);
      if (then) then();
      return;
    }
    // Order is kept: a chunk never overtakes the one before it.
    const at = Math.max(Date.now() + delay, conn.last[dir]);
    conn.last[dir] = at;
    setTimeout(() => {
      if (!conn.dead && chunk.length > 0) to.write(chunk);
      if (then) then();
    }, at - Date.now());
  }

  /** Stops holding `dir`: held bytes are delivered (`reset`: the connections holding some are cut instead). */
  release(dir: Direction, reset = false): void {
    this.hold[dir] = false;
    for (const conn of [...this.conns]) {
      const held = conn.held[dir];
      conn.held[dir] = [];
      if (held.length === 0) continue;
      if (reset) this.kill(conn);
      else for (const chunk of held) this.deliver(conn, dir, chunk);
    }
  }

  /** Open connections through this link. */
  get open(): number {
    return this.conns.size;
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    for (const conn of [...this.conns]) this.kill(conn);
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

/** Every link of a run: `links[client][server]`. */
export class FaultProxy {
  readonly links: ProxyLink[][] = [];

  constructor(
    private readonly clients: number,
    private readonly servers: number,
    private readonly target: (server: number) => number | null,
    private readonly rng: Rng,
  ) {}

  /** Opens every listener. */
  async start(): Promise<void> {
    for (let c = 0; c < this.clients; c++) {
      const row: ProxyLink[] = [];
      for (let s = 0; s < this.servers; s++) {
        const link = new ProxyLink(c, s, () => this.target(s), this.rng);
        await link.listen();
        row.push(link);
      }
      this.links.push(row);
    }
  }

  /** The ports of client `c`'s links, by server. */
  portsOf(c: number): number[] {
    return this.links[c]!.map((l) => l.port);
  }

  /** Heals everything: no latency, nothing held (held bytes delivered), no cut armed. */
  healAll(): void {
    for (const link of this.links.flat()) {
      link.latencyMs = link.jitterMs = 0;
      link.cuts.up = link.cuts.down = 0;
      link.release('up');
      link.release('down');
    }
  }

  /** Closes every listener. */
  async close(): Promise<void> {
    await Promise.all(this.links.flat().map((l) => l.close()));
  }
}
