/** Raw-socket fuzzing pieces: a seeded PRNG, generators of hostile HTTP/WebSocket byte sequences per listener, and a bounded raw `net` sender that reads back the status lines. */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { mulberry32 } from '../mulberry32.js';

/** A seeded PRNG (mulberry32): the same seed replays the same inputs. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** `n` pseudo-random bytes. */
  bytes(n: number): Buffer;
}

/** A seeded PRNG over a 32-bit seed. */
export function seededRng(seed: number): Rng {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: (items) => items[int(items.length)]!,
    chance: (p) => next() < p,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

/** Which listener an input targets. */
export type Listener = 'main' | 'upgrade' | 'metrics';

/** One generated input: the chunks written in order on one fresh socket, then a half-close. */
export interface RawInput {
  listener: Listener;
  /** A short label (method and target) for failure messages. */
  label: string;
  chunks: Buffer[];
}

/** What the generators need to know about the server under test. */
export interface FuzzTarget {
  mainPort: number;
  metricsPort: number;
  /** A valid bearer token, so some inputs get past authentication into the faces' body parsers. */
  token: string;
}

/** The paths of every face on the main port. */
export const MAIN_PATHS = [
  '/trpc/sync.push',
  '/trpc/sync.pull',
  '/trpc/sync.full',
  '/trpc/sync.stream',
  '/trpc/sync.pull,sync.full',
  '/trpc',
  '/sync/push',
  '/sync/pull',
  '/sync/full',
  '/sync/stream',
  '/sync/status',
  '/sync/health',
  '/compat/fastapi-offline-sync/sync/push',
  '/compat/fastapi-offline-sync/sync/pull',
  '/compat/fastapi-offline-sync/sync/full',
  '/compat/fastapi-offline-sync/sync/stream',
  '/compat/fastapi-offline-sync/openapi.json',
  '/openapi.json',
  '/',
  '/app.js',
  '/metrics',
] as const;

/** Paths upgraded to WebSocket. */
export const UPGRADE_PATHS = [
  '/trpc',
  '/sync/stream',
  '/compat/fastapi-offline-sync/sync/stream',
] as const;

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'get',
  'post',
  'Options',
  'PROPFIND',
  'M-SEARCH',
  'PURGE',
  'SEARCH',
  'QUERY',
  'BREW',
  'G ET',
  '',
  'GET\0',
  'G\u00ffT',
  'TRACK',
];

/** Targets whose host part `new URL()` refuses, and other odd request targets. */
const ODD_TARGETS = [
  'http://[/',
  'http://x:99999/',
  'https://a@[/',
  'http://[::1/sync/pull',
  'http://%zz/',
  'http://',
  'http:///',
  'http://a b/',
  'http://x:-1/',
  'http://x:port/',
  'https://user:pa%zzss@host/sync/pull',
  'ftp://x/sync/pull',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'http:/sync/pull',
  'sync/pull',
  '*',
  '**',
  '//',
  '//evil.example/sync/pull',
  '/%',
  '/%zz',
  '/%00',
  '/sync/pull?%',
  '/sync/pull?token=%zz&since=%ff',
  '/\u0000',
  '/\u00ff\u00fe',
  '/sync/../../etc/passwd',
  '\\sync\\pull',
  '/sync/pull#frag',
  '?',
  '#',
  'h',
  'http://127.0.0.1:0/',
  'http://[::ffff:127.0.0.1]:99999/sync/pull',
  'http://xn--/',
  'http://\u00e9.example/',
  'HTTP://[/',
  'wss://[/',
  'ws://x:99999/trpc',
];

const QUERIES = [
  '',
  '?',
  '?token=garbage',
  '?since=0',
  '?since=%00',
  '?limit=-1',
  '?limit=99999999999999999999',
  '?collections=tasks&collections=tasks',
  '?input=%7B',
  '?input=%7B%22json%22%3A%7B%7D%7D',
  '?batch=1&input=%7B%220%22%3A%7B%7D%2C%221%22%3A%7B%7D%7D',
  '?batch=1&input=garbage',
  '?cursor=%00%00',
  '?a=1&a=2&a=3',
  '?x=' + '%'.repeat(20),
  '?' + 'p=1&'.repeat(300),
];

const VERSIONS = [
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.1',
  'HTTP/1.0',
  'HTTP/2.0',
  'HTTP/0.9',
  'HTTP/1.2',
  'http/1.1',
  'HTTP/1.1 x',
  '',
];

const BAD_HOSTS = [
  '[',
  'http://[/',
  'x:99999',
  'a b',
  '%zz',
  '',
  ' ',
  '[::1',
  'a@b',
  'a/b',
  'a?b',
  'a#b',
  '\u00ff\u00fe',
  'x'.repeat(300),
  'host:',
  ':80',
  'h\tost',
  '[::1]:80:80',
  'localhost, other',
];

const JSON_BODIES = [
  '{}',
  '[]',
  'null',
  '{',
  '{"clientId":"fz","changes":[]}',
  '{"clientId":"fz","changes":[{"mutationId":1,"collection":"tasks","id":"t1","op":"upsert","data":{"title":"x"}}]}',
  '{"clientId":"fz","changes":[{"mutationId":9007199254740993,"collection":"tasks","id":"\\u0000","op":"upsert","data":{"__proto__":{"x":1}}}]}',
  '{"json":{"clientId":"fz","changes":[]}}',
  '{"json":{"clientId":"fz","changes":[]},"meta":{"values":{"x":["bigint"]}}}',
  '{"0":{"json":null},"1":{"json":1}}',
  '{"client_id":"fz","changes":[{"collection":"tasks","id":"t","op":"upsert","data":{"__proto__":1}}]}',
  '"\\ud800"',
  '1e999999',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
];

/** The parts of a request a generator may break; the others are kept well-formed so the faces behind the parser are reached. */
type Part = 'method' | 'target' | 'version' | 'host' | 'headers' | 'framing' | 'body';
const PARTS: Part[] = ['method', 'target', 'version', 'host', 'headers', 'framing', 'body'];

/** Which parts of one request are broken: none (a third), exactly one (about half), or several at random. */
function faults(rng: Rng): Set<Part> {
  const roll = rng.next();
  if (roll < 0.33) return new Set();
  if (roll < 0.83) return new Set([rng.pick(PARTS)]);
  return new Set(PARTS.filter(() => rng.chance(0.4)));
}

/** `Host` lines: the real one, or (broken) a malformed, absent or repeated one. */
function hostLines(rng: Rng, port: number, broken: boolean): string[] {
  const good = `127.0.0.1:${port}`;
  if (!broken) return [rng.chance(0.9) ? `Host: ${good}` : `Host: localhost`];
  const roll = rng.int(6);
  if (roll < 4) return [`Host: ${rng.pick(BAD_HOSTS)}`];
  if (roll === 4) return [];
  return [`Host: ${good}`, `Host: ${rng.chance(0.5) ? good : rng.pick(BAD_HOSTS)}`];
}

/** Random printable garbage, sometimes with NUL, CR, LF or high bytes. */
function garbage(rng: Rng, max: number): string {
  const n = rng.int(max) + 1;
  let out = '';
  for (let i = 0; i < n; i++) {
    const roll = rng.int(20);
    out +=
      roll === 0
        ? '\u0000'
        : roll === 1
          ? String.fromCharCode(128 + rng.int(128))
          : roll === 2
            ? '\r'
            : roll === 3
              ? '\n'
              : String.fromCharCode(32 + rng.int(95));
  }
  return out;
}

/** A request target: a face path (origin or absolute form) with a query, or (broken) an odd one. */
function target(rng: Rng, port: number, paths: readonly string[], broken: boolean): string {
  const path = rng.pick(paths);
  if (!broken)
    return rng.chance(0.85)
      ? path + rng.pick(QUERIES)
      : `http://127.0.0.1:${port}${path}${rng.pick(QUERIES)}`;
  const roll = rng.int(10);
  if (roll < 7) return rng.pick(ODD_TARGETS);
  if (roll < 9) return path + '/' + garbage(rng, 12).replace(/[\r\n ]/g, '');
  return '/' + 'a'.repeat(rng.pick([100, 5000, 9000, 70_000]));
}

/** Headers and body of one request: content-length games, chunked encodings, huge or broken headers, as `broken` says. */
function headersAndBody(
  rng: Rng,
  input: { token: string; withBody: boolean; broken: Set<Part> },
): { lines: string[]; body: Buffer } {
  const { broken } = input;
  const lines: string[] = [];
  const auth = rng.int(6);
  if (auth < 3) lines.push(`Authorization: Bearer ${input.token}`);
  else if (auth === 3)
    lines.push(`Authorization: Bearer ${garbage(rng, 40).replace(/[\r\n\u0000]/g, '')}`);
  else if (auth === 4)
    lines.push('Authorization: Basic Zm9vOmJhcg==', `Authorization: Bearer ${input.token}`);
  if (rng.chance(0.7))
    lines.push(
      `Content-Type: ${rng.chance(0.8) ? 'application/json' : rng.pick(['text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', 'garbage', ''])}`,
    );
  if (rng.chance(0.15))
    lines.push(`Accept-Encoding: ${rng.pick(['gzip', 'br', 'gzip;q=0', '*', 'x'.repeat(100)])}`);
  if (rng.chance(0.1)) lines.push(`Content-Encoding: ${rng.pick(['gzip', 'deflate', 'br', 'x'])}`);
  if (rng.chance(0.1))
    lines.push(
      `X-Forwarded-For: ${rng.pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1', '', '[::1]:80', '1.2.3.4:99999', ',,,', 'fe80::1%eth0', '::ffff:1.2.3.4', 'x'.repeat(5000)])}`,
    );
  if (rng.chance(0.1)) lines.push(`Origin: ${rng.pick(['http://evil.example', 'null', '[', ''])}`);
  if (rng.chance(0.1))
    lines.push(`X-Sync-Schema-Version: ${rng.pick(['1', '0', '-1', 'x', '99999999999999999999'])}`);
  if (rng.chance(0.05)) lines.push('Expect: 100-continue');
  if (rng.chance(0.05))
    lines.push(`Connection: ${rng.pick(['close', 'keep-alive', 'upgrade', 'garbage'])}`);
  if (broken.has('headers')) {
    if (rng.chance(0.8))
      lines.push(
        rng.pick([
          'NoColonHeader',
          ' folded: continuation',
          'Bad Name: x',
          'X-Nul: a\u0000b',
          'X-High: \u00ff\u00fe',
          `X-Huge: ${'h'.repeat(rng.pick([9000, 17_000, 70_000]))}`,
          ': empty-name',
          'X-Cr: a\rb',
          'Content-Type: application/json\u0000',
        ]),
      );
    else for (let i = 0; i < rng.pick([50, 120, 2100]); i++) lines.push(`X-Many-${i}: ${i}`);
  }

  const text = broken.has('body')
    ? rng.chance(0.7)
      ? garbage(rng, 200)
      : rng.pick(JSON_BODIES).slice(0, rng.int(20))
    : rng.pick(JSON_BODIES);
  const payload =
    broken.has('body') && rng.chance(0.2)
      ? Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), rng.bytes(40)])
      : Buffer.from(text, broken.has('body') && rng.chance(0.3) ? 'latin1' : 'utf8');
  if (!input.withBody && !broken.has('framing') && rng.chance(0.8))
    return { lines, body: Buffer.alloc(0) };
  if (!broken.has('framing')) {
    if (rng.chance(0.7)) {
      lines.push(`Content-Length: ${payload.length}`);
      return { lines, body: payload };
    }
    lines.push('Transfer-Encoding: chunked');
    const cut = rng.int(payload.length + 1);
    const chunk = (b: Buffer) =>
      b.length ? [Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')] : [];
    return {
      lines,
      body: Buffer.concat([
        ...chunk(payload.subarray(0, cut)),
        ...chunk(payload.subarray(cut)),
        Buffer.from('0\r\n\r\n'),
      ]),
    };
  }
  const framing = rng.int(6);
  if (framing === 0) {
    lines.push(`Content-Length: ${payload.length + rng.pick([1, 10, 1000, 1_000_000])}`); // truncated body
    return { lines, body: payload };
  }
  if (framing === 1) {
    lines.push(
      `Content-Length: ${rng.pick(['-1', 'abc', '1e3', '99999999999999999999', ' 5', '0x10', '', '1, 2', '+5'])}`,
    );
    return { lines, body: payload };
  }
  if (framing === 2) {
    lines.push(`Content-Length: ${payload.length}`, `Content-Length: ${payload.length + 1}`);
    return { lines, body: payload };
  }
  if (framing === 3) {
    lines.push('Transfer-Encoding: chunked', `Content-Length: ${payload.length}`); // CL + TE
    return {
      lines,
      body: Buffer.concat([
        Buffer.from(`${payload.length.toString(16)}\r\n`),
        payload,
        Buffer.from('\r\n0\r\n\r\n'),
      ]),
    };
  }
  lines.push(
    `Transfer-Encoding: ${rng.pick(['chunked', 'chunked', 'chunked', 'gzip, chunked', 'chunked, gzip', 'identity', 'Chunked', ' chunked', 'chunked\u0000'])}`,
  );
  const size = rng.pick([
    payload.length.toString(16),
    'zz',
    '-1',
    'ffffffffffffffffff',
    `${payload.length.toString(16)};ext=1`,
    `${(payload.length + 5).toString(16)}`,
    '0',
    ''.padStart(40, '0') + '1',
    `${payload.length.toString(16)};${'e'.repeat(20_000)}`,
  ]);
  const end = rng.pick([
    '\r\n0\r\n\r\n',
    '\r\n0\r\nX-Trailer: 1\r\n\r\n',
    '\r\n',
    '',
    '\r\n0\r\n',
    'garbage',
  ]);
  return { lines, body: Buffer.concat([Buffer.from(`${size}\r\n`), payload, Buffer.from(end)]) };
}

/** One HTTP request (or two pipelined) to `paths` on `port`, split into random chunks. */
function httpRequest(
  rng: Rng,
  listener: Listener,
  port: number,
  paths: readonly string[],
  token: string,
): RawInput {
  const broken = faults(rng);
  const method = broken.has('method')
    ? rng.pick(METHODS)
    : rng.pick(['GET', 'GET', 'POST', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
  const t = target(rng, port, paths, broken.has('target'));
  const version = broken.has('version')
    ? rng.pick(VERSIONS)
    : rng.chance(0.9)
      ? 'HTTP/1.1'
      : 'HTTP/1.0';
  const requestLine =
    broken.has('version') && rng.chance(0.1)
      ? garbage(rng, 80)
      : `${method} ${t}${version ? ` ${version}` : ''}`;
  const { lines, body } = headersAndBody(rng, {
    token,
    withBody: method === 'POST' || method === 'PUT' || method === 'PATCH',
    broken,
  });
  const head =
    [requestLine, ...hostLines(rng, port, broken.has('host')), ...lines].join('\r\n') + '\r\n\r\n';
  let bytes: Buffer = Buffer.concat([Buffer.from(head, 'latin1'), body]);
  if (rng.chance(0.1))
    bytes = Buffer.concat([
      bytes,
      Buffer.from(
        `GET ${rng.pick([...paths, ...ODD_TARGETS])} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
        'latin1',
      ),
    ]); // pipelined
  if (rng.chance(0.02)) bytes = rng.bytes(rng.int(300) + 1); // pure noise
  return {
    listener,
    label: `${JSON.stringify(method)} ${JSON.stringify(t.slice(0, 60))} broken=${[...broken].join(',') || 'none'}`,
    chunks: split(rng, bytes),
  };
}

/** Splits `bytes` into 1-4 chunks (parsers must cope with any boundary). */
function split(rng: Rng, bytes: Buffer): Buffer[] {
  const parts = rng.int(4) + 1;
  if (parts === 1 || bytes.length < 4) return [bytes];
  const cuts = Array.from({ length: parts - 1 }, () => 1 + rng.int(bytes.length - 1)).sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let at = 0;
  for (const cut of cuts) {
    if (cut > at) out.push(bytes.subarray(at, cut));
    at = cut;
  }
  out.push(bytes.subarray(at));
  return out;
}

/** One client WebSocket frame (masked unless broken on purpose). */
function wsFrame(
  rng: Rng,
  payload: Buffer,
  opcode: number,
  options: { mask?: boolean; fin?: boolean; lieLength?: number } = {},
): Buffer {
  const mask = options.mask ?? true;
  const len = options.lieLength ?? payload.length;
  const first = ((options.fin ?? true) ? 0x80 : 0) | (opcode & 0x0f);
  let header: Buffer;
  if (len < 126) header = Buffer.from([first, (mask ? 0x80 : 0) | len]);
  else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = (mask ? 0x80 : 0) | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (mask ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const key = rng.bytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([header, key, masked]);
}

const WS_TEXTS = [
  '{"type":"subscribe","since":null}',
  '{"type":"subscribe","since":"\\u0000","collections":["tasks"]}',
  '{"type":"subscribe","token":"garbage"}',
  '{"id":1,"method":"subscription","params":{"path":"sync.stream","input":{}}}',
  '{"id":1,"method":"query","params":{"path":"sync.pull","input":{"json":{}}}}',
  '{"id":1,"method":"connectionParams","data":{"token":"x"}}',
  '{"method":"connectionParams","data":null}',
  '[{"id":1},{"id":2}]',
  '{',
  'null',
  '"\\ud800"',
  'PING',
];

/** A WebSocket upgrade (valid or broken handshake) followed by garbage, valid-but-wrong or lying frames. */
function upgradeRequest(
  rng: Rng,
  port: number,
  token: string,
  listener: Listener = 'upgrade',
  paths: readonly string[] = UPGRADE_PATHS,
): RawInput {
  const path = rng.pick(paths);
  const roll = rng.int(10);
  const t =
    roll < 6
      ? path + (rng.chance(0.3) ? `?token=${rng.chance(0.5) ? token : 'garbage'}` : '')
      : roll < 8
        ? rng.pick(ODD_TARGETS)
        : rng.chance(0.5)
          ? `http://127.0.0.1:${port}${path}`
          : path + rng.pick(QUERIES);
  const method = rng.chance(0.85) ? 'GET' : rng.pick(METHODS);
  const key = rng.chance(0.85)
    ? randomBytes(16).toString('base64')
    : rng.pick(['', 'short', 'x'.repeat(100), '\u00ff']);
  const lines = [`${method} ${t} HTTP/1.1`, ...hostLines(rng, port, rng.chance(0.15))];
  if (rng.chance(0.9))
    lines.push(
      `Upgrade: ${rng.pick(['websocket', 'websocket', 'websocket', 'WebSocket', 'h2c', 'foo', ''])}`,
    );
  if (rng.chance(0.9))
    lines.push(
      `Connection: ${rng.pick(['Upgrade', 'Upgrade', 'keep-alive, Upgrade', 'close', 'garbage'])}`,
    );
  if (rng.chance(0.9)) lines.push(`Sec-WebSocket-Key: ${key}`);
  if (rng.chance(0.9))
    lines.push(`Sec-WebSocket-Version: ${rng.pick(['13', '13', '13', '8', '99', 'x'])}`);
  if (rng.chance(0.15))
    lines.push(
      `Sec-WebSocket-Extensions: ${rng.pick(['permessage-deflate', 'permessage-deflate; client_max_window_bits=99', 'garbage;;', 'permessage-deflate; server_max_window_bits'])}`,
    );
  if (rng.chance(0.1)) lines.push(`Sec-WebSocket-Protocol: ${rng.pick(['a, a', '', 'x y'])}`);
  if (rng.chance(0.2)) lines.push(`Authorization: Bearer ${rng.chance(0.5) ? token : 'garbage'}`);
  if (rng.chance(0.05)) lines.push(`Content-Length: ${rng.pick(['5', '-1', 'abc'])}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  const frames: Buffer[] = [];
  const count = rng.int(5);
  for (let i = 0; i < count; i++) {
    const kind = rng.int(10);
    if (kind < 4) frames.push(wsFrame(rng, Buffer.from(rng.pick(WS_TEXTS)), 1));
    else if (kind === 4) frames.push(wsFrame(rng, rng.bytes(rng.int(64)), 2));
    else if (kind === 5)
      frames.push(wsFrame(rng, Buffer.from('x'), 1, { mask: false })); // unmasked: a protocol error
    else if (kind === 6)
      frames.push(
        wsFrame(rng, Buffer.alloc(0), rng.pick([3, 7, 11, 15, 8, 9, 10]), { fin: rng.chance(0.5) }),
      ); // reserved and control opcodes
    else if (kind === 7)
      frames.push(
        wsFrame(rng, Buffer.from('{"type":'), 1, {
          lieLength: rng.pick([200, 70_000, 200 * 1024 * 1024]),
        }),
      ); // length lies past the data
    else if (kind === 8)
      frames.push(wsFrame(rng, Buffer.from([0xff, 0xfe, 0xc3]), 1)); // invalid UTF-8 text
    else frames.push(rng.bytes(rng.int(40) + 1));
  }
  const bytes = [head, ...frames];
  return {
    listener,
    label: `upgrade ${JSON.stringify(method)} ${JSON.stringify(t.slice(0, 60))}`,
    chunks: rng.chance(0.5) ? [Buffer.concat(bytes)] : bytes,
  };
}

/** How many inputs of each listener a run of `total` sends (about 75% main, 15% upgrades, 10% metrics). */
export function inputCounts(total: number): Record<Listener, number> {
  const upgrade = Math.round(total * 0.15);
  const metrics = Math.round(total * 0.1);
  return { main: total - upgrade - metrics, upgrade, metrics };
}

/** The inputs of one seeded run, interleaved across listeners. */
export function* generateInputs(
  seed: number,
  counts: Record<Listener, number>,
  target: FuzzTarget,
): Generator<RawInput> {
  const rng = seededRng(seed);
  const left = { ...counts };
  // The inputs the issue names come first, on every listener, so a short run always covers them.
  for (const t of ['http://[/', 'http://x:99999/', 'https://a@[/']) {
    for (const [listener, port] of [
      ['main', target.mainPort],
      ['metrics', target.metricsPort],
    ] as const) {
      if (left[listener] === 0) continue;
      left[listener]--;
      yield {
        listener,
        label: `GET ${t}`,
        chunks: [Buffer.from(`GET ${t} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)],
      };
    }
    if (left.upgrade > 0) {
      left.upgrade--;
      const key = randomBytes(16).toString('base64');
      yield {
        listener: 'upgrade',
        label: `upgrade ${t}`,
        chunks: [
          Buffer.from(
            `GET ${t} HTTP/1.1\r\nHost: 127.0.0.1:${target.mainPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          ),
        ],
      };
    }
  }
  while (left.main + left.upgrade + left.metrics > 0) {
    const total = left.main + left.upgrade + left.metrics;
    const roll = rng.int(total);
    if (roll < left.main) {
      left.main--;
      yield httpRequest(rng, 'main', target.mainPort, MAIN_PATHS, target.token);
    } else if (roll < left.main + left.upgrade) {
      left.upgrade--;
      yield upgradeRequest(rng, target.mainPort, target.token);
    } else {
      left.metrics--;
      const paths = ['/metrics', '/metrics/', '/', '/sync/health', '/x'];
      // The metrics port has no WebSocket face: upgrades to it must be refused like any other request.
      yield rng.chance(0.15)
        ? upgradeRequest(rng, target.metricsPort, target.token, 'metrics', paths)
        : httpRequest(rng, 'metrics', target.metricsPort, paths, target.token);
    }
  }
}

/** What one socket saw. */
export interface RawOutcome {
  /** Status codes of the HTTP responses read (up to the first 101; later bytes are WebSocket frames). */
  statuses: number[];
  /** The socket closed (by the server or after our half-close) before the deadline. */
  closed: boolean;
  /** The deadline passed and the socket was destroyed by us. */
  timedOut: boolean;
  /** Everything the server sent, as latin1 text. */
  text: string;
}

/**
 * Connects to 127.0.0.1:`port`, writes `chunks` in order, half-closes, and reads until the server
 * closes or `deadlineMs` passes (then destroys the socket). Never rejects: a refused or reset
 * connection is an outcome too (closed with no status).
 */
export function sendRaw(port: number, chunks: Buffer[], deadlineMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(received);
      resolve({
        statuses: statusesOf(data),
        closed: !timedOut,
        timedOut,
        text: data.toString('latin1'),
      });
    };
    const timer = setTimeout(() => finish(true), deadlineMs);
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => finish(false));
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk, () => undefined);
      socket.end();
    });
  });
}

/** The status codes of the responses in `data`: the one at its start and each `\r\nHTTP/1.x NNN ` line after it, stopping at a 101. */
export function statusesOf(data: Buffer): number[] {
  const text = data.toString('latin1');
  const statuses: number[] = [];
  const re = /(?:^|\r\n)HTTP\/1\.[01] (\d{3})[ \r]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const status = Number(m[1]);
    statuses.push(status);
    if (status === 101) break;
  }
  return statuses;
}

/** Tallies of a run, for the assertions and the summary line. */
export interface FuzzTally {
  inputs: Record<Listener, number>;
  /** Responses by class ('1xx'…'5xx'). */
  classes: Record<string, number>;
  /** Responses by status code. */
  byStatus: Record<number, number>;
  /** Sockets closed without any response. */
  closedSilently: number;
  /** Sockets we destroyed at the deadline. */
  timedOut: number;
  /** The 5xx answers and what provoked them (first 20). */
  failures: string[];
}

/** An empty tally. */
export function newTally(): FuzzTally {
  return {
    inputs: { main: 0, upgrade: 0, metrics: 0 },
    classes: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    byStatus: {},
    closedSilently: 0,
    timedOut: 0,
    failures: [],
  };
}

/** Adds one outcome to `tally`. */
export function record(tally: FuzzTally, input: RawInput, outcome: RawOutcome): void {
  tally.inputs[input.listener]++;
  if (outcome.timedOut) tally.timedOut++;
  else if (outcome.statuses.length === 0) tally.closedSilently++;
  for (const status of outcome.statuses) {
    const cls = `${Math.floor(status / 100)}xx`;
    tally.classes[cls] = (tally.classes[cls] ?? 0) + 1;
    tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
    if (status >= 500 && tally.failures.length < 20)
      tally.failures.push(
        `${status} on ${input.listener}: ${input.label} (sha1 ${createHash('sha1').update(Buffer.concat(input.chunks)).digest('hex').slice(0, 10)})`,
      );
  }
}

/** Runs `inputs` with at most `concurrency` sockets open; `port` picks each input's listener port. */
export async function runInputs(
  inputs: Iterable<RawInput>,
  port: (listener: Listener) => number,
  options: { concurrency: number; deadlineMs: number; tally: FuzzTally; stopWhen?: () => boolean },
): Promise<void> {
  const it = inputs[Symbol.iterator]();
  const worker = async () => {
    for (;;) {
      if (options.stopWhen?.()) return;
      const next = it.next();
      if (next.done) return;
      const outcome = await sendRaw(
        port(next.value.listener),
        next.value.chunks,
        options.deadlineMs,
      );
      record(options.tally, next.value, outcome);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}

/** The one summary line (`raw-socket fuzz: …`) `.ci/run` prints. */
export function summaryLine(
  seed: number,
  tally: FuzzTally,
  alive: boolean,
  uncaught: number | null,
): string {
  const { main, upgrade, metrics } = tally.inputs;
  const c = tally.classes;
  return `raw-socket fuzz: seed=${seed} inputs=${main + upgrade + metrics} (main ${main}, upgrade ${upgrade}, metrics ${metrics}) 1xx=${c['1xx']} 2xx=${c['2xx']} 3xx=${c['3xx']} 4xx=${c['4xx']} 5xx=${c['5xx']} closed=${tally.closedSilently} deadline=${tally.timedOut} uncaught=${uncaught ?? '?'} alive=${alive ? 'yes' : 'no'}`;
}
