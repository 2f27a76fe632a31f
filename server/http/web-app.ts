/** The task web app at `/` and `/app.js`: pre-built by `npm run build` into `dist/web/`, else bundled in memory by esbuild on first request. */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { requestUrl } from './request-target.js';
import { answerUnexpected, type UnexpectedError } from '../unexpected.js';

/** Options of `createWebAppHandler`. */
export interface WebAppOptions {
  /**
   * A token written into the page as `window.__SYNC_TOKEN__`. Give it only for a development
   * secret the server generated itself; with a configured secret or JWKS leave it out (the page
   * then asks for a token). @default none
   */
  devToken?: string;
  /** Where the pre-built `index.html` + `app.js` are looked for. @default `dist/web` next to this module */
  builtDir?: string;
  /** Told when the app cannot be served (answered 500 with a request id). @default one JSON line on stderr */
  onError?: (info: UnexpectedError) => void;
}

/** Answers `GET /` and `GET /app.js`; returns false for every other request (the caller serves it). */
export type WebAppHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

/** The page source and entry, from the repository (source checkouts). */
export const WEB_SOURCE = { html: here('../../examples/web/index.html'), entry: here('../../examples/web/main.tsx') };

/** Bundles the web app with esbuild (a dev dependency: loaded only when nothing is pre-built). */
export async function buildWebApp(): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [WEB_SOURCE.entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

async function firstFile(paths: string[]): Promise<string | null> {
  for (const p of paths) {
    try {
      return await readFile(p, 'utf8');
    } catch {
      // next
    }
  }
  return null;
}

/** JSON for a `<script>`: `<` escaped so a token can never close the tag. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * Serves the task app. The bundle is built (or read) once and cached.
 *
 * @example
 * const webApp = createWebAppHandler({ devToken });
 * createSyncHttpServer({ engine, authenticate, webApp });
 */
export function createWebAppHandler(options: WebAppOptions = {}): WebAppHandler {
  const built = options.builtDir ?? here('../../web');
  let page: Promise<{ html: string; js: string }> | null = null;
  const load = async () => {
    const htmlSource = await firstFile([`${built}/index.html`, WEB_SOURCE.html]);
    if (htmlSource === null) throw new Error('web app: index.html not found (run npm run build)');
    const js = (await firstFile([`${built}/app.js`])) ?? (await buildWebApp());
    const inject = options.devToken ? `<script>window.__SYNC_TOKEN__ = ${scriptJson(options.devToken)};</script>` : '';
    return { html: htmlSource.replace('<!--TOKEN-->', inject), js };
  };
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = requestUrl(req)?.pathname;
    if (path !== '/' && path !== '/index.html' && path !== '/app.js') return false;
    page ??= load();
    page.then(
      ({ html, js }) => {
        const body = path === '/app.js' ? js : html;
        res.writeHead(200, {
          'content-type': path === '/app.js' ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8',
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: Error) => {
        page = null; // try again next time
        answerUnexpected(res, `GET ${path}`, error, options.onError);
      },
    );
    return true;
  };
}
