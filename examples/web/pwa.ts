/** The PWA side of the app: registers the service worker, notices a new version waiting (update flow), and asks for persistent storage. */
import { useEffect, useState } from 'react';

/** What the app knows about its service worker and storage. */
export interface PwaState {
  /** The worker controls this page (a later start works offline). */
  offlineReady: boolean;
  /** A new version is installed and waits; `applyUpdate()` switches to it. */
  updateAvailable: boolean;
  /** `navigator.storage.persist()`'s answer (`null`: not asked / not supported). */
  persisted: boolean | null;
  /** The browser offered to install the app (Chromium's `beforeinstallprompt`); `install()` shows its prompt. */
  installable: boolean;
}

let state: PwaState = {
  offlineReady: false,
  updateAvailable: false,
  persisted: null,
  installable: false,
};
/** Chromium's deferred install prompt. */
let installPrompt: (Event & { prompt(): Promise<unknown> }) | null = null;
window.addEventListener('beforeinstallprompt', (e) => {
  e.preventDefault(); // shown from the app's own button instead
  installPrompt = e as Event & { prompt(): Promise<unknown> };
  set({ installable: true });
});
window.addEventListener('appinstalled', () => {
  installPrompt = null;
  set({ installable: false });
  void askPersistence(); // an installed app is usually granted persistent storage
});

/** Shows the browser's install prompt (after `installable`). */
export async function install(): Promise<void> {
  const p = installPrompt;
  installPrompt = null;
  set({ installable: false });
  await p?.prompt();
}
const listeners = new Set<() => void>();
const set = (patch: Partial<PwaState>) => {
  state = { ...state, ...patch };
  for (const l of listeners) l();
};
let registration: ServiceWorkerRegistration | null = null;

/** Registers `/sw.js` and watches for updates (on start, every minute and when the tab is shown again). */
export async function startPwa(): Promise<void> {
  void askPersistence();
  if (!('serviceWorker' in navigator)) return;
  try {
    registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch (error) {
    console.warn('service worker not registered', error);
    return;
  }
  const reg = registration;
  const watch = (worker: ServiceWorker | null) => {
    if (!worker) return;
    const check = () => {
      // `installed` with a controller: a new version waits; without one, this is the first install.
      if (worker.state === 'installed' && navigator.serviceWorker.controller)
        set({ updateAvailable: true });
    };
    check();
    worker.addEventListener('statechange', check);
  };
  watch(reg.waiting);
  watch(reg.installing);
  reg.addEventListener('updatefound', () => watch(reg.installing));
  void navigator.serviceWorker.ready.then(() => set({ offlineReady: true }));
  const checkForUpdate = () => void reg.update().catch(() => undefined); // offline: nothing to check
  setInterval(checkForUpdate, 60_000);
  document.addEventListener(
    'visibilitychange',
    () => document.visibilityState === 'visible' && checkForUpdate(),
  );
  window.addEventListener('online', checkForUpdate);
}

/** Checks for a new version now (tests, or an app's "check for updates"). */
export async function checkForUpdate(): Promise<void> {
  await registration?.update();
}

/** Lets the waiting version take over, then reloads into it. */
export function applyUpdate(): void {
  const waiting = registration?.waiting;
  if (!waiting) return location.reload();
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), {
    once: true,
  });
  waiting.postMessage({ type: 'SKIP_WAITING' });
}

/**
 * Asks the browser not to evict this origin's storage (IndexedDB holds the outbox: writes not yet
 * synced). Chromium grants it without a prompt to sites the user engages with (installed, bookmarked,
 * notifications); Firefox asks the user; Safari decides by itself.
 */
export async function askPersistence(): Promise<boolean | null> {
  if (!navigator.storage?.persist) return null;
  const persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  set({ persisted });
  return persisted;
}

/** The PWA state, re-rendered on change. */
export function usePwa(): PwaState {
  const [value, setValue] = useState(state);
  useEffect(() => {
    const l = () => setValue(state);
    listeners.add(l);
    l();
    return () => void listeners.delete(l);
  }, []);
  return value;
}
