/** Live fan-out: N raw WebSocket subscribers (`WS /sync/stream`) on one scope; commit → delivery latency per subscriber. */
import WebSocket from 'ws';
import { decodeCheckpoint } from '../shared/checkpoint.js';
import type { ServerProcess } from './child.js';
import { upserts } from './data.js';
import { measure, percentile, type BenchResult } from './stats.js';
import { benchToken } from './tokens.js';

/** A subscriber's received frames: arrival time (epoch ms) and the raw text, parsed after the run. */
interface Subscriber {
  ws: WebSocket;
  frames: Array<[at: number, text: string]>;
}

const now = () => performance.timeOrigin + performance.now();

/** Opens one socket to `url`, stamping every frame it receives; `subscribe` sends the stream's subscribe frame. */
async function connect(url: string, subscribe: boolean): Promise<Subscriber> {
  const ws = new WebSocket(url);
  const sub: Subscriber = { ws, frames: [] };
  // Only stamp and keep the frame here: parsing 1,000 frames per commit would delay the later ones.
  ws.on('message', (data) => sub.frames.push([now(), String(data)]));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (subscribe) ws.send(JSON.stringify({ type: 'subscribe' }));
  return sub;
}

/** `count` sockets opened 100 at a time. */
async function connectMany(count: number, open: () => Promise<Subscriber>): Promise<Subscriber[]> {
  const subs: Subscriber[] = [];
  for (let i = 0; i < count; i += 100)
    subs.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, open))));
  return subs;
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}

/**
 * Opens `count` subscribers on a fresh scope, makes `commits` single-change pushes over REST (one
 * at a time, each delivered to everyone before the next), and returns every commit → delivery
 * latency. Commit time is taken in the server process right after COMMIT (the store's commit
 * event); arrival time in this process; both on the same machine's clock.
 */
export async function fanoutLatencies(
  server: ServerProcess,
  scope: string,
  count: number,
  commits: number,
): Promise<{ delivered: number[]; sent: number[]; frameBytes: number }> {
  const token = await benchToken(scope);
  const push = async (i: number) => {
    const res = await fetch(`${server.url}/sync/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'fanout', changes: upserts('f', i, 1, i + 1) }),
    });
    if (!res.ok) throw new Error(`push: ${res.status} ${await res.text()}`);
  };
  await server.call({ op: 'recordCommits', scope });
  const url = `ws://127.0.0.1:${server.port}/sync/stream?token=${encodeURIComponent(token)}`;
  const subs = await connectMany(count, () => connect(url, true));
  // Warm-up commit: every subscriber has it (live or by catch-up) once it is registered.
  await push(0);
  if (!(await until(() => subs.every((s) => s.frames.length >= 1), 30_000)))
    throw new Error('fan-out: subscribers did not all receive the warm-up commit');
  const skip = subs.map((s) => s.frames.length);
  for (let k = 1; k <= commits; k++) {
    await push(k);
    await until(() => subs.every((s, i) => s.frames.length >= skip[i]! + k), 5000);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const committed = new Map(await server.call<Array<[number, number]>>({ op: 'commitTimes' }));
  // Server side: commit → send() returned. The warm-up commit (the lowest seq) is left out, as above.
  const sends = await server.call<Array<[number, number]>>({ op: 'sendLatencies' });
  const warmup = sends.reduce((min, [seq]) => Math.min(min, seq), Infinity);
  const sent = sends.filter(([seq]) => seq !== warmup).map(([, ms]) => ms);
  for (const s of subs) s.ws.close();
  const latencies: number[] = [];
  subs.forEach((s, i) => {
    for (const [at, text] of s.frames.slice(skip[i])) {
      const event = JSON.parse(text) as { type: string; checkpoint?: string };
      if (event.type !== 'changes' || !event.checkpoint) continue;
      const seq = decodeCheckpoint(event.checkpoint)!.seq;
      const t = committed.get(seq);
      if (t !== undefined) latencies.push(at - t);
    }
  });
  if (latencies.length < count * commits * 0.99)
    throw new Error(`fan-out: only ${latencies.length} of ${count * commits} deliveries measured`);
  const sizes = subs[0]!.frames.slice(skip[0]).map(([, text]) => Buffer.byteLength(text));
  return { delivered: latencies, sent, frameBytes: percentile(sizes, 0.5) };
}

/**
 * The baseline for fan-out, measured in the same run: `count` sockets on a bare `ws` server in
 * the bench server process, and `rounds` broadcasts of one pre-encoded frame of `bytes` bytes sent
 * to all of them in a plain loop. Returns send → arrival latencies, taken as the fan-out's are.
 */
export async function rawBroadcastLatencies(
  server: ServerProcess,
  count: number,
  rounds: number,
  bytes: number,
): Promise<number[]> {
  const port = await server.call<number>({ op: 'rawWsPort' });
  const subs = await connectMany(count, () => connect(`ws://127.0.0.1:${port}`, false));
  const latencies: number[] = [];
  // Round 0 warms up; like the fan-out's warm-up commit, it is not measured.
  for (let k = 0; k <= rounds; k++) {
    const { t0 } = await server.call<{ t0: number }>({ op: 'rawBroadcast', bytes, k });
    if (!(await until(() => subs.every((s) => s.frames.length > k), 5000)))
      throw new Error('raw broadcast: not every socket received the frame');
    if (k > 0) for (const s of subs) latencies.push(s.frames[k]![0] - t0);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (const s of subs) s.ws.close();
  return latencies;
}

/**
 * 1 subscriber, then 1,000 on another scope; p95 ratio = p95(1000) ÷ p95(1). Then the same socket
 * counts on a bare `ws` broadcast of a frame of the same size: `p95_vs_raw_ws` is what the sync
 * path adds over the transport itself, and `raw_ws.1000.p95_ratio` is how the transport alone
 * scales from 1 to 1,000 sockets on this machine (the floor under `p95_ratio`).
 */
export async function benchFanout(
  server: ServerProcess,
  prefix: string,
  subscribers = 1000,
): Promise<BenchResult[]> {
  const single = await fanoutLatencies(server, 'fanout-1', 1, 60);
  const many = await fanoutLatencies(server, `fanout-${subscribers}`, subscribers, 40);
  const rawOne = percentile(await rawBroadcastLatencies(server, 1, 60, many.frameBytes), 0.95);
  const rawMany = percentile(
    await rawBroadcastLatencies(server, subscribers, 40, many.frameBytes),
    0.95,
  );
  const p95one = percentile(single.delivered, 0.95);
  const p95many = percentile(many.delivered, 0.95);
  const sentOne = percentile(single.sent, 0.95);
  const sentMany = percentile(many.sent, 0.95);
  const n = `${prefix}fanout.${subscribers}`;
  return [
    measure(`${prefix}fanout.1.p50`, percentile(single.delivered, 0.5), 'ms'),
    measure(`${prefix}fanout.1.p95`, p95one, 'ms'),
    measure(`${n}.p50`, percentile(many.delivered, 0.5), 'ms'),
    measure(`${n}.p95`, p95many, 'ms', p95one),
    measure(`${n}.p95_ratio`, p95many / p95one, 'x'),
    // Server side only: commit → the server's send() of the frame returned (no client receive/parse cost).
    measure(`${prefix}fanout.1.sent.p95`, sentOne, 'ms'),
    measure(`${n}.sent.p50`, percentile(many.sent, 0.5), 'ms'),
    measure(`${n}.sent.p95`, sentMany, 'ms', sentOne),
    measure(`${n}.sent.p95_ratio`, sentMany / sentOne, 'x'),
    measure(`${prefix}raw_ws.1.p95`, rawOne, 'ms'),
    measure(`${prefix}raw_ws.${subscribers}.p95`, rawMany, 'ms', rawOne),
    measure(`${prefix}raw_ws.${subscribers}.p95_ratio`, rawMany / rawOne, 'x'),
    measure(`${n}.p95_vs_raw_ws`, p95many / rawMany, 'x'),
  ];
}
