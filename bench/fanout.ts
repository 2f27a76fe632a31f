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

async function connect(server: ServerProcess, token: string): Promise<Subscriber> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/sync/stream?token=${encodeURIComponent(token)}`);
  const sub: Subscriber = { ws, frames: [] };
  // Only stamp and keep the frame here: parsing 1,000 frames per commit would delay the later ones.
  ws.on('message', (data) => sub.frames.push([now(), String(data)]));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'subscribe' }));
  return sub;
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
export async function fanoutLatencies(server: ServerProcess, scope: string, count: number, commits: number): Promise<{ delivered: number[]; sent: number[] }> {
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
  const subs: Subscriber[] = [];
  for (let i = 0; i < count; i += 100) subs.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => connect(server, token)))));
  // Warm-up commit: every subscriber has it (live or by catch-up) once it is registered.
  await push(0);
  if (!(await until(() => subs.every((s) => s.frames.length >= 1), 30_000))) throw new Error('fan-out: subscribers did not all receive the warm-up commit');
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
  if (latencies.length < count * commits * 0.99) throw new Error(`fan-out: only ${latencies.length} of ${count * commits} deliveries measured`);
  return { delivered: latencies, sent };
}

/** 1 subscriber, then 1,000 on another scope; p95 ratio = p95(1000) ÷ p95(1). */
export async function benchFanout(server: ServerProcess, prefix: string, subscribers = 1000): Promise<BenchResult[]> {
  const single = await fanoutLatencies(server, 'fanout-1', 1, 60);
  const many = await fanoutLatencies(server, `fanout-${subscribers}`, subscribers, 20);
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
  ];
}
