/** The web app's icons, drawn at build time: a blue rounded square with a white tick, as SVG and as 192/512 px PNGs (a tiny PNG encoder, no image library). */
import { deflateSync } from 'node:zlib';

/** The icon as SVG (also the favicon). */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" rx="96" fill="#2b6cb0"/><path d="M140 270l80 80 160-180" fill="none" stroke="#fff" stroke-width="48" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Distance from point p to segment a–b. */
function toSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** The icon as an RGBA PNG of `size`×`size` pixels (same drawing as `ICON_SVG`, on a 512 grid). */
export function iconPng(size: number): Buffer {
  const row = size * 4 + 1;
  const raw = Buffer.alloc(row * size);
  const s = 512 / size;
  for (let y = 0; y < size; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const gx = (x + 0.5) * s;
      const gy = (y + 0.5) * s;
      // Rounded square, radius 96.
      const cx = Math.min(Math.max(gx, 96), 416);
      const cy = Math.min(Math.max(gy, 96), 416);
      const inside = Math.hypot(gx - cx, gy - cy) <= 96;
      const tick =
        Math.min(toSegment(gx, gy, 140, 270, 220, 350), toSegment(gx, gy, 220, 350, 380, 170)) <=
        24;
      const o = y * row + 1 + x * 4;
      if (!inside) continue; // transparent corner
      const [r, g, b] = tick ? [255, 255, 255] : [0x2b, 0x6c, 0xb0];
      raw[o] = r!;
      raw[o + 1] = g!;
      raw[o + 2] = b!;
      raw[o + 3] = 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** The web app manifest (installable: name, start URL, standalone display, 192 and 512 px icons). */
export const MANIFEST = {
  name: 'Tasks · trpc-offline-sync',
  short_name: 'Tasks',
  description: 'An offline-first task list that syncs when the network is back.',
  start_url: '/',
  scope: '/',
  display: 'standalone',
  background_color: '#f4f5f7',
  theme_color: '#2b6cb0',
  icons: [
    { src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any maskable' },
    { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' },
  ],
};
