/** The app's sign-in token: kept in localStorage, replaced from the sign-in prompt, and announced to every tab of the origin (BroadcastChannel, with the storage event as a fallback). */

declare global {
  interface Window {
    /** Injected by the server only when it signs development tokens itself. */
    __SYNC_TOKEN__?: string;
  }
}

export const TOKEN_KEY = 'trpc-offline-sync:token';
/** The last token the server wrote into the page: a different one means the server's dev secret changed. */
const INJECTED_KEY = 'trpc-offline-sync:injected-token';
const CHANNEL = 'trpc-offline-sync:token';

/**
 * The token to start with: a dev token written into the page wins when it is new (the server
 * signs with a new secret), else the stored one (pasted earlier, or the same dev token).
 */
export function initialToken(): string | null {
  const injected = window.__SYNC_TOKEN__;
  if (injected && localStorage.getItem(INJECTED_KEY) !== injected) {
    localStorage.setItem(INJECTED_KEY, injected);
    localStorage.setItem(TOKEN_KEY, injected);
  }
  return localStorage.getItem(TOKEN_KEY) ?? injected ?? null;
}

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;

/** Stores a new token and tells the other tabs. */
export function saveToken(token: string): void {
  localStorage.setItem(TOKEN_KEY, token);
  channel?.postMessage({ token });
}

/** Calls `listener` when another tab stored a new token; returns a function that stops listening. */
export function onTokenFromOtherTab(listener: (token: string) => void): () => void {
  let last: string | null = null;
  const deliver = (token: unknown) => {
    if (typeof token !== 'string' || !token || token === last) return;
    last = token;
    listener(token);
  };
  const onMessage = (e: MessageEvent) => deliver((e.data as { token?: unknown } | null)?.token);
  const onStorage = (e: StorageEvent) => e.key === TOKEN_KEY && deliver(e.newValue);
  channel?.addEventListener('message', onMessage);
  window.addEventListener('storage', onStorage);
  return () => {
    channel?.removeEventListener('message', onMessage);
    window.removeEventListener('storage', onStorage);
  };
}

/** Who a JWT is for (`sub`, `tenant`) and when it expires, for the prompt; `null` when it is not a readable JWT. */
export function describeToken(
  token: string,
): { sub?: string; tenant?: string; exp?: number } | null {
  try {
    const part = token.split('.')[1]!;
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as {
      sub?: string;
      tenant?: string;
      exp?: number;
    };
  } catch {
    return null;
  }
}
