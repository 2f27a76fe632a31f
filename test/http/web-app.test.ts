/** `createWebAppHandler`: `/` and `/app.js` served (bundled by esbuild from examples/web), the token written in only when given and escaped, other requests passed on. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebAppHandler, type WebAppOptions } from '../../server/http/web-app.js';

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
    expect(await (await fetch(`${await serve({})}/`)).text()).not.toContain('window.__SYNC_TOKEN__ =');
    const html = await (await fetch(`${await serve({ devToken: '</script><b>' })}/`)).text();
    expect(html).not.toContain('</script><b>');
    expect(html).toContain('\\u003c/script>\\u003cb>');
  });

  it('passes on every other request', async () => {
    const url = await serve({});
    for (const [method, path] of [['GET', '/sync/pull'], ['POST', '/'], ['GET', '/app.js.map'], ['GET', '/openapi.json']] as const) {
      const res = await fetch(`${url}${path}`, { method });
      expect([method, path, res.status, await res.text()]).toEqual([method, path, 404, 'passed on']);
    }
  });
});
