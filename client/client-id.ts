/** Random ids for devices, from `crypto.getRandomValues` where the platform has it. */

/** A random id like `c-3f9a1c0b7e2d4a61` (16 hex digits), safe as an HLC node id. */
export function randomClientId(): string {
  const bytes = new Uint8Array(8);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } })
    .crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A random HLC node id like `n3f9a1c0b7e2d` (12 hex digits); unrelated to the client id, which versions must not reveal. */
export function randomNodeId(): string {
  return `n${randomClientId().slice(2, 14)}`;
}
