/** The web app at `/`: the task app (an installable PWA: page, bundle, service worker, manifest and icons), or for an app's own schema a collection browser; pre-built by `npm run build` into `dist/web/`, else bundled in memory by esbuild on first request. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { SyncSchema } from '../../shared/schema.js';
import { requestUrl } from './request-target.js';
import { ICON_SVG, iconPng, MANIFEST } from './web-icons.js';
import { answerUnexpected, type UnexpectedError } from '../unexpected.js';

/** Options of `createWebAppHandler`. */
export interface WebAppOptions {
  /**
   * A token written into the page as `window.__SYNC_TOKEN__`. Give it only for a development
   * secret the server generated itself; with a configured secret or JWKS leave it out (the page
   * then asks for a token). @default none
   */
  devToken?: string;
  /** Where the pre-built `index.html` + `app.js` + `sw.js` are looked for. @default `dist/web` next to this module */
  builtDir?: string;
  /** Told when the app cannot be served (answered 500 with a request id). @default one JSON line on stderr */
  onError?: (info: UnexpectedError) => void;
  /**
   * The app's own schema (the CLI's `--schema`): `/` then serves a collection browser for it
   * (every collection listed, documents added, edited and deleted offline, a form per
   * collection from its JSON Schema) instead of the task app, whose collections it lacks.
   * @default none (the task app, for the demo schema)
   */
  schema?: SyncSchema;
}

/** Answers the app's paths (`/`, `/index.html`, `/app.js`, `/sw.js`, `/manifest.webmanifest`, icons); returns false for every other request (the caller serves it). */
export type WebAppHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const here = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

/** The page source and entries, from the repository (source checkouts). */
export const WEB_SOURCE = {
  html: here('../../examples/web/index.html'),
  entry: here('../../examples/web/main.tsx'),
  sw: here('../../examples/web/sw.ts'),
  collectionsHtml: here('../../examples/web/collections/index.html'),
  collectionsEntry: here('../../examples/web/collections/main.tsx'),
};

/** The placeholder the service worker's bundle carries where the shell's version goes. */
const VERSION_MARK = '__SHELL_VERSION__';

async function bundle(entry: string, define: Record<string, string> = {}): Promise<string> {
  const esbuild = await import('esbuild'); // a dev dependency: loaded only when nothing is pre-built
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"', ...define },
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** Bundles the web app with esbuild. */
export const buildWebApp = (): Promise<string> => bundle(WEB_SOURCE.entry);

/** Bundles the collection browser served for an app's own schema. */
export const buildCollectionsApp = (): Promise<string> => bundle(WEB_SOURCE.collectionsEntry);

/** Bundles the service worker (its version left as a placeholder the server fills in). */
export const buildServiceWorker = (): Promise<string> =>
  bundle(WEB_SOURCE.sw, { [VERSION_MARK]: JSON.stringify(VERSION_MARK) });

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

interface Asset {
  type: string;
  body: Buffer;
  gzip?: Buffer;
  br?: Buffer;
  headers?: Record<string, string>;
}

/** Brotli quality for the cached copies: 9 packs the 800 kB bundle to ~190 kB in ~0.25 s once (11 saves 8 % more for 4 s). */
const BROTLI = {
  params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT },
};

/** A text asset, compressed ahead (brotli and gzip, kept with the asset) when over 1 KiB. */
function textAsset(type: string, body: string, extra?: Record<string, string>): Asset {
  const buf = Buffer.from(body);
  const packed =
    buf.length > 1024 ? { gzip: gzipSync(buf), br: brotliCompressSync(buf, BROTLI) } : {};
  return { type, body: buf, ...packed, ...(extra ? { headers: extra } : {}) };
}

/** The encoding to answer with: brotli, else gzip, when the request accepts it (`q=0` refuses). */
export function pickEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | null {
  const accepted = new Set<string>();
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.split(';').map((p) => p.trim());
    const q = params.find((p) => p.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) accepted.add(name);
  }
  return accepted.has('br') ? 'br' : accepted.has('gzip') || accepted.has('*') ? 'gzip' : null;
}

/** The shell's assets; the service worker's version is a hash of what it caches, so a new build (or a new dev token) is a new worker. */
async function loadAssets(options: WebAppOptions, built: string): Promise<Map<string, Asset>> {
  const htmlSource = await firstFile([`${built}/index.html`, WEB_SOURCE.html]);
  if (htmlSource === null) throw new Error('web app: index.html not found (run npm run build)');
  const js = (await firstFile([`${built}/app.js`])) ?? (await buildWebApp());
  const swSource = (await firstFile([`${built}/sw.js`])) ?? (await buildServiceWorker());
  const inject = options.devToken
    ? `<script>window.__SYNC_TOKEN__ = ${scriptJson(options.devToken)};</script>`
    : '';
  const html = htmlSource.replace('<!--TOKEN-->', inject);
  const version = createHash('sha256')
    .update(html)
    .update(js)
    .update(swSource)
    .digest('hex')
    .slice(0, 12);
  const sw = swSource.split(VERSION_MARK).join(version);
  const text = textAsset;
  const page = text('text/html; charset=utf-8', html);
  return new Map<string, Asset>([
    ['/', page],
    ['/index.html', page],
    ['/app.js', text('text/javascript; charset=utf-8', js)],
    // The worker is checked for updates on each visit: never from the HTTP cache; scope `/`.
    [
      '/sw.js',
      text('text/javascript; charset=utf-8', sw, {
        'service-worker-allowed': '/',
        'x-shell-version': version,
      }),
    ],
    ['/manifest.webmanifest', text('application/manifest+json', JSON.stringify(MANIFEST))],
    ['/icon.svg', text('image/svg+xml', ICON_SVG)],
    ['/icon-192.png', { type: 'image/png', body: iconPng(192) }],
    ['/icon-512.png', { type: 'image/png', body: iconPng(512) }],
  ]);
}

const APP_PATHS = new Set([
  '/',
  '/index.html',
  '/app.js',
  '/sw.js',
  '/manifest.webmanifest',
  '/icon.svg',
  '/icon-192.png',
  '/icon-512.png',
]);
const COLLECTIONS_PATHS = new Set(['/', '/index.html', '/collections.js', '/sw.js', '/icon.svg']);

/**
 * The worker served beside the collection browser: a task-app worker installed earlier on this
 * origin would keep answering `/` with its cached shell, so this one takes its place, empties the
 * caches, unregisters and reloads the open pages.
 */
const RETIRING_WORKER = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil((async () => {
  for (const key of await caches.keys()) await caches.delete(key);
  await self.registration.unregister();
  for (const c of await self.clients.matchAll({ type: 'window' })) c.navigate(c.url);
})()));
`;

/** Each collection's JSON Schema (input side; what JSON cannot say is left open), for the browser's forms and checks. */
export function schemaForPage(schema: SyncSchema): {
  version?: number;
  collections: Record<string, unknown>;
} {
  const collections: Record<string, unknown> = {};
  for (const name of schema.names) {
    try {
      collections[name] = z.toJSONSchema(schema.collections[name]!, {
        unrepresentable: 'any',
        io: 'input',
      });
    } catch {
      collections[name] = { type: 'object' }; // cycles and the like: any object, the server still checks
    }
  }
  return { ...(schema.version === undefined ? {} : { version: schema.version }), collections };
}

/** The collection browser's assets for `schema`. */
async function loadCollectionsAssets(
  options: WebAppOptions & { schema: SyncSchema },
  built: string,
): Promise<Map<string, Asset>> {
  const htmlSource = await firstFile([`${built}/collections.html`, WEB_SOURCE.collectionsHtml]);
  if (htmlSource === null)
    throw new Error('web app: collections.html not found (run npm run build)');
  const js = (await firstFile([`${built}/collections.js`])) ?? (await buildCollectionsApp());
  const token = options.devToken ? `window.__SYNC_TOKEN__ = ${scriptJson(options.devToken)}; ` : '';
  const inject = `<script>${token}window.__SYNC_SCHEMA__ = ${scriptJson(schemaForPage(options.schema))};</script>`;
  const page = textAsset('text/html; charset=utf-8', htmlSource.replace('<!--TOKEN-->', inject));
  return new Map<string, Asset>([
    ['/', page],
    ['/index.html', page],
    ['/collections.js', textAsset('text/javascript; charset=utf-8', js)],
    [
      '/sw.js',
      textAsset('text/javascript; charset=utf-8', RETIRING_WORKER, {
        'service-worker-allowed': '/',
      }),
    ],
    ['/icon.svg', textAsset('image/svg+xml', ICON_SVG)],
  ]);
}

/**
 * Serves the task app (or, given `schema`, the collection browser). The assets are built (or
 * read) once and cached; text assets above 1 KiB are kept brotli- and gzip-compressed and sent
 * so (`Content-Encoding`, `Vary: Accept-Encoding`) to clients that accept it.
 *
 * @example
 * const webApp = createWebAppHandler({ devToken });
 * createSyncHttpServer({ engine, authenticate, webApp });
 */
export function createWebAppHandler(options: WebAppOptions = {}): WebAppHandler {
  const built = options.builtDir ?? here('../../web');
  let assets: Promise<Map<string, Asset>> | null = null;
  const { schema } = options;
  const paths = schema ? COLLECTIONS_PATHS : APP_PATHS;
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = requestUrl(req)?.pathname;
    if (path === undefined || !paths.has(path)) return false;
    assets ??= schema
      ? loadCollectionsAssets({ ...options, schema }, built)
      : loadAssets(options, built);
    assets.then(
      (all) => {
        const asset = all.get(path)!;
        const encoding = asset.gzip ? pickEncoding(req.headers['accept-encoding']) : null;
        const body = (encoding && asset[encoding]) || asset.body;
        res.writeHead(200, {
          'content-type': asset.type,
          'content-length': String(body.length),
          // Always revalidated: the service worker, not the HTTP cache, keeps the app for offline starts.
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
          ...(asset.gzip ? { vary: 'accept-encoding' } : {}),
          ...(encoding ? { 'content-encoding': encoding } : {}),
          ...asset.headers,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: Error) => {
        assets = null; // try again next time
        answerUnexpected(res, `GET ${path}`, error, options.onError);
      },
    );
    return true;
  };
}
