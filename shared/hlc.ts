/** Hybrid logical clock: versions like `20260502T120000.000Z-0001-a1b2`, ordered as plain strings. */

/** Largest logical counter that fits the 4 hex digits of the format. */
const MAX_COUNTER = 0xffff;
const HLC_PATTERN = /^(\d{8}T\d{6}\.\d{3}Z)-([0-9a-f]{4})-([A-Za-z0-9_-]{1,64})$/;

/** A parsed HLC. `wallMs` is milliseconds since the epoch, `counter` the logical part. */
export interface HlcParts {
  wallMs: number;
  counter: number;
  node: string;
}

let lastWallMs = NaN;
let lastWall = '';

function formatWall(ms: number): string {
  // Clocks stamp many changes within one millisecond: format each millisecond once.
  if (ms === lastWallMs) return lastWall;
  // 2026-05-02T12:00:00.000Z -> 20260502T120000.000Z
  const iso = new Date(ms).toISOString();
  lastWallMs = ms;
  lastWall =
    iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17);
  return lastWall;
}

/** Formats parts as the wire string. */
export function formatHlc(parts: HlcParts): string {
  return `${formatWall(parts.wallMs)}-${parts.counter.toString(16).padStart(4, '0')}-${parts.node}`;
}

/** Parses a wire HLC; returns null when the string is not one. */
export function parseHlc(value: string): HlcParts | null {
  const m = HLC_PATTERN.exec(value);
  if (!m) return null;
  const w = m[1]!;
  const iso = `${w.slice(0, 4)}-${w.slice(4, 6)}-${w.slice(6, 8)}T${w.slice(9, 11)}:${w.slice(11, 13)}:${w.slice(13)}`;
  const wallMs = Date.parse(iso);
  if (Number.isNaN(wallMs)) return null;
  return { wallMs, counter: parseInt(m[2]!, 16), node: m[3]! };
}

/** True when `value` is a well-formed HLC string. */
export function isHlc(value: string): boolean {
  return parseHlc(value) !== null;
}

/** Total order on HLC strings (fixed-width prefix, so string order is time order). */
export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Node ids are free text in the format; keep them to the allowed alphabet. */
export function sanitizeNodeId(node: string): string {
  const cleaned = node.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64);
  return cleaned.length > 0 ? cleaned : 'node';
}

export interface HlcClockOptions {
  /** Node id written into every HLC this clock makes. */
  node: string;
  /** Wall clock source (tests inject one). @default Date.now */
  now?: () => number;
  /**
   * A remote HLC further ahead of the local wall clock than this is not merged (a device with a
   * wrong clock must not drag every replica into the future). @default 300_000 (5 minutes)
   */
  maxDriftMs?: number;
}

/**
 * A monotonic hybrid logical clock.
 *
 * @example
 * const clock = new HlcClock({ node: 'srv1' });
 * const v1 = clock.now();           // '20260502T120000.000Z-0000-srv1'
 * clock.receive(remoteVersion);      // never goes backwards, even if the wall clock does
 */
export class HlcClock {
  readonly node: string;
  private wall = 0;
  private counter = 0;
  private readonly wallNow: () => number;
  readonly maxDriftMs: number;

  constructor(options: HlcClockOptions) {
    this.node = sanitizeNodeId(options.node);
    this.wallNow = options.now ?? Date.now;
    this.maxDriftMs = options.maxDriftMs ?? 300_000;
  }

  /** A new HLC strictly greater than every HLC this clock has made or received. */
  now(): string {
    const wall = this.wallNow();
    if (wall > this.wall) {
      this.wall = wall;
      this.counter = 0;
    } else if (this.counter < MAX_COUNTER) {
      this.counter += 1;
    } else {
      this.wall += 1;
      this.counter = 0;
    }
    return formatHlc({ wallMs: this.wall, counter: this.counter, node: this.node });
  }

  /** A clock with another node id that never stamps below anything this one made or received. */
  withNode(node: string): HlcClock {
    const next = new HlcClock({ node, now: this.wallNow, maxDriftMs: this.maxDriftMs });
    next.wall = this.wall;
    next.counter = this.counter;
    return next;
  }

  /** True when `remote` is further ahead of the local wall clock than the drift cap allows. */
  isTooFarAhead(remote: string): boolean {
    const parts = parseHlc(remote);
    return parts !== null && parts.wallMs > this.wallNow() + this.maxDriftMs;
  }

  /**
   * Merges a remote HLC so that later local HLCs sort after it. Remote HLCs past the drift cap
   * are ignored (returns false).
   */
  receive(remote: string): boolean {
    const parts = parseHlc(remote);
    if (!parts || this.isTooFarAhead(remote)) return false;
    if (parts.wallMs > this.wall || (parts.wallMs === this.wall && parts.counter > this.counter)) {
      this.wall = parts.wallMs;
      this.counter = parts.counter;
    }
    return true;
  }
}
