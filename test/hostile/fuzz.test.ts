/**
 * Fuzz: thousands of generated requests (valid-looking and broken shapes, deep and huge values,
 * odd unicode, wrong types, long and crowded URLs, forged X-Forwarded-For) on REST, the compat face,
 * tRPC over HTTP and WebSocket and the raw WebSocket, against a real server with two tenants and a
 * (generous) per-IP limit. Zero 5xx, no crash, no hang (every request is answered or its socket closed
 * with an expected code within a bound), tenant A never reads tenant B, the server healthy afterwards;
 * on every store (memory, PGlite, PostgreSQL when TEST_DATABASE_URL is set).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../server/stores/store.js';
import { storeCases } from '../rest/harness.js';
import {
  deepArray,
  deepObject,
  rest,
  startHostileServer,
  trpc,
  wsOutcome,
  type HostileServer,
} from './harness.js';

const MARK_B = 'TENANT-B-SECRET-7f3a';
/** How long a WebSocket may stay silent before the fuzz calls it a hang (generous: PGlite on a loaded 2-core CI box). */
const ANSWER_BOUND_MS = 5000;
/** A query sent after each fuzzed tRPC-over-WebSocket frame: its answer proves the connection is served. */
const PROBE = JSON.stringify({
  id: 2,
  method: 'query',
  params: { path: 'sync.pull', input: { json: {} } },
});
/**
 * Close codes the WebSocket faces may answer a bad input with: 1000 (stream ended, resync), 1002/1007
 * (ws: protocol error, bad UTF-8), 1008 (policy), 1009 (frame too big), 4000 + an HTTP status (stream refusals).
 * Anything else (1011 internal error, 1006 dropped without a close frame, 1001 shutting down) fails the fuzz.
 */
const EXPECTED_CLOSES = new Set([
  1000, 1002, 1007, 1008, 1009, 4400, 4401, 4403, 4408, 4409, 4413, 4426, 4429,
]);

/** The tRPC reply to our frame (id 1; id null for a frame it could not parse), if any. */
function replyTo(messages: string[], ids: (number | null)[]): any {
  for (const m of messages) {
    try {
      const msg = JSON.parse(m);
      for (const one of Array.isArray(msg) ? msg : [msg]) if (ids.includes(one?.id)) return one;
    } catch {
      // not JSON: not a reply
    }
  }
  return undefined;
}

/** True for a frame tRPC has nothing to answer: an empty JSON batch. */
function emptyBatch(frame: string): boolean {
  try {
    const v = JSON.parse(frame);
    return Array.isArray(v) && v.length === 0;
  } catch {
    return false;
  }
}

const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    '$where',
    'a.b',
    '_sync_version',
    '\u0000',
    '\ud800',
    '',
    ' ',
    'tasks',
    'loose',
    'free',
    'x'.repeat(300),
  ),
);
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  oddString,
  fc.constantFrom(null, true, -1, 0, 1e308, -0, 2 ** 53),
);
const data = fc.oneof(
  fc.dictionary(oddString, value, { maxKeys: 6 }),
  fc.record({ title: oddString, done: fc.boolean() }),
  fc.record({
    meta: fc.dictionary(oddString, value, { maxKeys: 4 }),
    tags: fc.array(value, { maxLength: 5 }),
  }),
  value,
);
const change = fc.record(
  {
    mutationId: fc.oneof(fc.integer({ min: 1, max: 1e9 }), value),
    collection: fc.oneof(fc.constantFrom('tasks', 'loose', 'free'), oddString),
    id: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), oddString),
    op: fc.oneof(fc.constantFrom('upsert', 'patch', 'delete'), oddString),
    data,
    baseVersion: fc.oneof(fc.constant(null), oddString),
  },
  { requiredKeys: ['mutationId', 'collection', 'id', 'op'] },
);
const pushBody = fc.oneof(
  fc.record({
    clientId: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), oddString),
    atomic: fc.oneof(fc.boolean(), value),
    changes: fc.array(change, { maxLength: 5 }),
  }),
  value,
);
/** A raw JSON text: a generated value, or one nested deep, or a huge string, or broken text. */
const rawText = fc.oneof(
  pushBody.map((b) => JSON.stringify(b) ?? 'null'),
  fc
    .integer({ min: 20, max: 4000 })
    .map(
      (d) =>
        `{"clientId":"c","changes":[{"mutationId":1,"collection":"free","id":"d","op":"upsert","data":{"tags":${deepArray(d)}}}]}`,
    ),
  fc
    .integer({ min: 20, max: 4000 })
    .map(
      (d) =>
        `{"clientId":"c","changes":[{"mutationId":1,"collection":"loose","id":"d","op":"patch","data":${deepObject(d)}}]}`,
    ),
  fc
    .integer({ min: 1, max: 400_000 })
    .map(
      (n) =>
        `{"clientId":"c","changes":[{"mutationId":1,"collection":"tasks","id":"h","op":"upsert","data":{"title":"${'x'.repeat(n)}"}}]}`,
    ),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '{',
    '[[[',
    '{"clientId":',
    '\u0000',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{"x":1}}}',
  ),
);
const query = fc.record(
  {
    since: oddString,
    collections: fc.oneof(
      oddString,
      fc.constant('tasks,loose'),
      fc.constant(Array(150).fill('tasks').join(',')),
    ),
    limit: fc.oneof(oddString, fc.integer().map(String)),
    cursor: oddString,
    other: oddString,
  },
  { requiredKeys: [] },
);

/** Raw query strings: many parameters, long values, broken percent-encoding, odd separators. */
const rawQuery = fc.oneof(
  fc
    .integer({ min: 1, max: 3000 })
    .map((n) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join('&')),
  fc.integer({ min: 1, max: 14_000 }).map((n) => `since=${'s'.repeat(n)}`),
  fc.integer({ min: 1, max: 5000 }).map((n) => '&'.repeat(n)),
  fc.constantFrom(
    'since=%',
    'since=%zz',
    'collections=%00',
    '__proto__=1&constructor=2',
    'limit=1&limit=2',
    '=&=&=',
    'since=%F0%9F',
    'a[b]=1',
    'since=x#frag',
  ),
  fc.string({ maxLength: 80 }).map((t) => encodeURI(t)),
);
/** X-Forwarded-For values a client might forge (the server trusts one proxy in the fuzz). */
const forwardedFor = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.ipV6()).map(([a, b]) => `${a}, ${b}`),
  fc.constantFrom(
    '',
    'garbage',
    '::ffff:1.2.3.4',
    '[2001:db8::1]:443',
    '1.2.3.4:80',
    ','.repeat(500),
    'x'.repeat(5000),
    'unknown, 10.0.0.1',
  ),
);
const urlPath = fc.constantFrom(
  '/sync/pull',
  '/sync/full',
  '/compat/fastapi-offline-sync/sync/pull',
  '/compat/fastapi-offline-sync/sync/full',
  '/trpc/sync.pull',
  '/sync/health',
  '/nowhere',
);

type Req =
  | { face: 'url'; path: string; query: string; xff: string }
  | { face: 'trpcws'; frame: string }
  | { face: 'rest-push'; body: string; tenant: 'a' | 'b' | 'none'; type: string; xff: string }
  | { face: 'rest-pull' | 'rest-full'; q: Record<string, string> }
  | { face: 'trpc-push'; body: string }
  | { face: 'trpc-pull' | 'trpc-full'; input: string }
  | { face: 'ws'; frames: string[] };

const request: fc.Arbitrary<Req> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      face: fc.constant('rest-push' as const),
      body: rawText,
      tenant: fc.constantFrom('a' as const, 'a' as const, 'b' as const, 'none' as const),
      type: fc.constantFrom(
        'application/json',
        'application/json',
        'text/plain',
        'application/x+json',
      ),
      xff: forwardedFor,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      face: fc.constant('url' as const),
      path: urlPath,
      query: rawQuery,
      xff: forwardedFor,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      face: fc.constant('trpcws' as const),
      frame: fc.oneof(
        rawText.map(
          (t) => `{"id":1,"method":"mutation","params":{"path":"sync.push","input":{"json":${t}}}}`,
        ),
        rawText,
        value.map((v) =>
          JSON.stringify({
            id: 1,
            method: 'query',
            params: { path: 'sync.pull', input: { json: v } },
          }),
        ),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      face: fc.constantFrom('rest-pull' as const, 'rest-full' as const),
      q: query,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      face: fc.constant('trpc-push' as const),
      body: fc.oneof(
        rawText.map((t) => `{"json":${t}}`),
        rawText,
        value.map((v) => JSON.stringify({ json: v, meta: { values: { clientId: ['Date'] } } })),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      face: fc.constantFrom('trpc-pull' as const, 'trpc-full' as const),
      input: fc.oneof(
        query.map((q) => JSON.stringify({ json: q })),
        value.map((v) => JSON.stringify({ json: v })),
        fc.string({ maxLength: 30 }),
        fc.integer({ min: 10, max: 1500 }).map((d) => `{"json":{"since":${deepArray(d)}}}`),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      face: fc.constant('ws' as const),
      frames: fc.array(
        fc.oneof(
          value.map((v) => JSON.stringify({ type: 'subscribe', since: v, collections: v })),
          fc.string({ maxLength: 40 }),
          fc.constant('{"type":"subscribe","token":"@A@"}'),
          fc
            .integer({ min: 10, max: 3000 })
            .map((d) => `{"type":"subscribe","token":"@A@","since":${deepArray(d)}}`),
        ),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
);

async function send(s: HostileServer, r: Req): Promise<{ status: number; text: string }> {
  const token = (t: 'a' | 'b' | 'none') => (t === 'a' ? s.tokenA : t === 'b' ? s.tokenB : null);
  switch (r.face) {
    case 'rest-push':
      return rest(s.url, '/sync/push', {
        token: token(r.tenant),
        body: r.body,
        headers: { 'content-type': r.type, 'x-forwarded-for': r.xff },
      });
    case 'url':
      return rest(s.url, `${r.path}?${r.query}`, {
        token: s.tokenA,
        headers: { 'x-forwarded-for': r.xff },
      });
    case 'trpcws': {
      const out = await wsOutcome(
        s.port,
        `/trpc?token=${encodeURIComponent(s.tokenA)}`,
        [r.frame, PROBE],
        (m) => replyTo(m, [1, null]) !== undefined && replyTo(m, [2]) !== undefined,
        ANSWER_BOUND_MS,
      );
      const msg = replyTo(out.messages, [1, null]);
      if (msg !== undefined) {
        const code =
          (msg.error?.json?.data?.httpStatus as number | undefined) ?? (msg.error ? 400 : 200);
        return { status: code, text: JSON.stringify(msg) };
      }
      if (out.closeCode !== null) return closed(out.closeCode, out.messages);
      // Unanswered: only an empty batch may go without a reply, and the probe after it must be answered.
      if (emptyBatch(r.frame) && replyTo(out.messages, [2]) !== undefined)
        return { status: 204, text: '' };
      return {
        status: -2,
        text: `no reply within ${ANSWER_BOUND_MS} ms (probe ${replyTo(out.messages, [2]) ? 'answered' : 'unanswered'})`,
      };
    }
    case 'rest-pull':
    case 'rest-full':
      return rest(
        s.url,
        `/sync/${r.face === 'rest-pull' ? 'pull' : 'full'}?${new URLSearchParams(r.q)}`,
        { token: s.tokenA },
      );
    case 'trpc-push':
      return trpc(s.url, 'push', null, s.tokenA, r.body);
    case 'trpc-pull':
    case 'trpc-full':
      return trpc(s.url, r.face === 'trpc-pull' ? 'pull' : 'full', null, s.tokenA, r.input);
    case 'ws': {
      // A subscribe is answered by events, a bad one by an error frame and a 44xx close: silence is a hang.
      const out = await wsOutcome(
        s.port,
        '/sync/stream',
        r.frames.map((f) => f.replace('@A@', s.tokenA)),
        (m) => m.length > 0,
        ANSWER_BOUND_MS,
      );
      if (out.closeCode !== null) return closed(out.closeCode, out.messages);
      if (out.silent)
        return { status: -2, text: `no frame and no close within ${ANSWER_BOUND_MS} ms` };
      return { status: 200, text: out.messages.join('\n') };
    }
  }
}

/** A WebSocket closed by the server: an expected code counts as its 4xx, anything else as a server error (1011 is the WebSocket 5xx). */
function closed(code: number, messages: string[]): { status: number; text: string } {
  return EXPECTED_CLOSES.has(code)
    ? { status: code >= 4000 ? code - 4000 : 400, text: messages.join('\n') }
    : { status: 500, text: `close ${code}: ${messages.join('\n')}` };
}

async function fuzz(store: Store, count: number, seed: number) {
  // A generous per-IP limit with one trusted proxy: every forged X-Forwarded-For is parsed, few requests are refused.
  const s = await startHostileServer(
    store,
    { limits: { maxBodyBytes: 256 * 1024 } },
    { ipRateLimit: { requests: 100_000, windowMs: 60_000 }, trustProxy: 1 },
  );
  try {
    const b = await rest(s.url, '/sync/push', {
      token: s.tokenB,
      body: {
        clientId: 'b',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 'secret',
            op: 'upsert',
            data: { title: MARK_B },
          },
        ],
      },
    });
    expect(b.status).toBe(200);
    const requests = fc.sample(request, { numRuns: count, seed });
    const statuses: Record<string, number> = {};
    const fiveHundreds: string[] = [];
    let crossTenant = 0;
    let resets = 0;
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const r = requests[next++]!;
        const failed = (e: unknown) => ({
          status: -1,
          text: `${String(e)} ${String((e as { cause?: unknown }).cause)}`,
        });
        let a = await send(s, r).catch(failed);
        // A reset of a pooled keep-alive socket (the client's side of a race with a socket the server
        // closed after an early 413/415 answer) is no server error: retried up to 3 times, counted.
        // A server that crashed or hung fails every retry and the health checks below.
        for (let retry = 0; a.status === -1 && retry < 3; retry++) {
          resets++;
          await new Promise((done) => setTimeout(done, 20 * (retry + 1)));
          a = await send(s, r).catch(failed);
        }
        const key = `${r.face.split('-')[0]}:${a.status}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (a.status >= 500 || a.status < 0)
          fiveHundreds.push(
            `${r.face} ${a.status} ${JSON.stringify(r).slice(0, 200)} → ${a.text.slice(0, 200)}`,
          );
        if (!(r.face === 'rest-push' && r.tenant === 'b') && a.text.includes(MARK_B)) crossTenant++;
      }
    };
    await Promise.all(Array.from({ length: 12 }, worker));
    const total = Object.values(statuses).reduce((x, y) => x + y, 0);
    console.log(
      `fuzz (${store.kind}): ${total} requests, ${fiveHundreds.length} 5xx, hangs or unexpected closes, ${crossTenant} cross-tenant reads, ${resets} connection resets retried, statuses ${JSON.stringify(Object.fromEntries(Object.entries(statuses).sort()))}`,
    );
    expect(fiveHundreds.slice(0, 5)).toEqual([]);
    expect(crossTenant).toBe(0);
    expect(s.unexpected.map((u) => `${u.op}: ${(u.error as Error)?.message}`).slice(0, 5)).toEqual(
      [],
    );
    // Healthy afterwards: health answers, and a normal push and pull still work for both tenants.
    expect((await rest(s.url, '/sync/health')).status).toBe(200);
    const ok = await rest(s.url, '/sync/push', {
      token: s.tokenA,
      body: {
        clientId: 'after',
        changes: [
          {
            mutationId: 1,
            collection: 'tasks',
            id: 'after',
            op: 'upsert',
            data: { title: 'still fine' },
          },
        ],
      },
    });
    expect(ok.status).toBe(200);
    const pulledB = await rest(s.url, '/sync/pull', { token: s.tokenB });
    expect(pulledB.json.changes.map((c: { id: string }) => c.id)).toContain('secret');
    const fullA = await rest(s.url, '/sync/full', { token: s.tokenA });
    expect(fullA.status).toBe(200);
    expect(fullA.text).not.toContain(MARK_B);
  } finally {
    await s.close();
  }
}

/** Requests per store: the memory store takes the long run (fast); PGlite and PostgreSQL a shorter one each. */
const RUNS: Record<string, { count: number; seed: number }> = {
  memory: { count: Number(process.env.FUZZ_N ?? 2400), seed: 20261202 },
  pglite: { count: 400, seed: 42 },
  postgres: { count: 600, seed: 7 },
};

const cases = (await storeCases()).filter((c) => RUNS[c.name]);

describe('fuzz', () => {
  for (const storeCase of cases) {
    const { count, seed } = RUNS[storeCase.name]!;
    it(`${count} generated requests on ${storeCase.name}: zero 5xx, no hang, only expected closes, no cross-tenant read, healthy after`, async () => {
      await fuzz(await storeCase.create(), count, seed);
    }, 120_000);
  }
});
