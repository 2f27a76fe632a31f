/** The app's service worker: precaches the app shell (page, bundle, manifest, icons) per build version, serves it cache-first, and waits for the page's go-ahead to take over. */

// The DOM lib has no service-worker types: the few used here, declared locally.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(response: Promise<Response> | Response): void;
}
interface SwScope {
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  location: Location;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

declare const __SHELL_VERSION__: string;
const sw = self as unknown as SwScope;
/** Replaced by the server with a hash of the shell it serves, so each build is a new worker. */
const VERSION = __SHELL_VERSION__;
const CACHE = `tasks-shell-${VERSION}`;
/** The app shell: everything the page needs to start with no network. */
const SHELL = [
  '/',
  '/app.js',
  '/manifest.webmanifest',
  '/icon.svg',
  '/icon-192.png',
  '/icon-512.png',
];

sw.addEventListener('install', (event) => {
  // cache: 'reload' skips the HTTP cache, so the shell is the one the server serves now.
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))),
  );
  // No skipWaiting here: a new version waits until the page says the user wants it (update flow).
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys())
        if (key.startsWith('tasks-shell-') && key !== CACHE) await caches.delete(key);
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('message', (event) => {
  const data = event.data as { type?: string } | null;
  if (data?.type === 'SKIP_WAITING') void sw.skipWaiting();
  if (data?.type === 'VERSION')
    (event.ports[0] ?? (event.source as MessagePort | null))?.postMessage({
      type: 'VERSION',
      version: VERSION,
    });
});

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  // Navigations (any path the app is opened at, `/#inspector` included) get the cached page.
  const key =
    request.mode === 'navigate' ? '/' : SHELL.includes(url.pathname) ? url.pathname : null;
  if (key === null) return; // /trpc, /sync, …: the network, untouched
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const hit = await cache.match(key);
      if (hit) return hit;
      const response = await fetch(request);
      if (response.ok && request.mode !== 'navigate') await cache.put(key, response.clone());
      return response;
    })(),
  );
});
