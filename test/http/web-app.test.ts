/** `createWebAppHandler`: `/` and `/app.js` served (bundled by esbuild from examples/web), the token written in only when given and escaped, other requests passed on. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import {
  createWebAppHandler,
  pickEncoding,
  type WebAppOptions,
} from '../../server/http/web-app.js';

/** A raw GET (fetch would decompress and hide the encoding): status, headers and the bytes as sent. */
function get(url: string, headers: Record<string, string>) {
  return new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const servers: http.Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function serve(options: WebAppOptions): Promise<string> {
  const handler = createWebAppHandler({ builtDir: '/nonexistent', ...options });
  const server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end('passed on');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('web app handler', () => {
  it('serves the page with the dev token and the bundle', async () => {
    const url = await serve({ devToken: 'abc.def.ghi' });
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('window.__SYNC_TOKEN__ = "abc.def.ghi";');
    const js = await fetch(`${url}/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const body = await js.text();
    expect(body).toContain('__SYNC_TOKEN__');
    expect(body).not.toMatch(/from\s*["'](react|@trpc\/client|superjson)["']/); // one self-contained bundle
  });

  it('writes no token when none is given (a configured secret), and escapes one that could close the tag', async () => {
    expect(await (await fetch(`${await serve({})}/`)).text()).not.toContain(
      'window.__SYNC_TOKEN__ =',
    );
    const html = await (await fetch(`${await serve({ devToken: '</script><b>' })}/`)).text();
    expect(html).not.toContain('</script><b>');
    expect(html).toContain('\\u003c/script>\\u003cb>');
  });

  it('sends the bundle compressed as the browser accepts it (brotli, else gzip), the same bytes once decoded', async () => {
    const url = await serve({});
    const plain = await get(`${url}/app.js`, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('accept-encoding');
    expect(plain.body.length).toBeGreaterThan(500_000);
    const br = await get(`${url}/app.js`, { 'accept-encoding': 'gzip, deflate, br, zstd' }); // what Chromium sends
    expect(br.headers['content-encoding']).toBe('br');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gzip = await get(`${url}/app.js`, { 'accept-encoding': 'gzip, br;q=0' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.body).equals(plain.body)).toBe(true);
    console.log(
      `app.js: ${plain.body.length} B, brotli ${br.body.length} B, gzip ${gzip.body.length} B`,
    );
    expect([
      pickEncoding('identity'),
      pickEncoding('*'),
      pickEncoding('BR;q=1.0'),
      pickEncoding('gzip;q=0, br;q=0'),
    ]).toEqual([null, 'gzip', 'br', null]);
  });

  it('passes on every other request', async () => {
    const url = await serve({});
    for (const [method, path] of [
      ['GET', '/sync/pull'],
      ['POST', '/'],
      ['GET', '/app.js.map'],
      ['GET', '/openapi.json'],
    ] as const) {
      const res = await fetch(`${url}${path}`, { method });
      expect([method, path, res.status, await res.text()]).toEqual([
        method,
        path,
        404,
        'passed on',
      ]);
    }
  });
});
