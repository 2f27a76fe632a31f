/**
 * Opaque checkpoints and full-export cursors. Clients store and send them back, never parse them.
 * A checkpoint names the store's epoch (a random id made when its tables were created) and the
 * scope's commit sequence number, so a checkpoint from another database is recognised, not trusted.
 */
import { SyncError } from './errors.js';
import { badNameReason } from './text.js';

/** A decoded checkpoint: the store epoch and the last seq the holder has seen. */
export interface Checkpoint {
  epoch: string;
  seq: number;
}

const CHECKPOINT_PATTERN = /^c1\.([a-z0-9]{1,32})\.([0-9a-z]{1,12})$/;

/** Encodes a checkpoint as the opaque wire string. */
export function encodeCheckpoint(cp: Checkpoint): string {
  return `c1.${cp.epoch}.${cp.seq.toString(36)}`;
}

/**
 * Decodes a checkpoint; `undefined`, `null` or `''` mean "from the beginning" (null result).
 * A malformed value is a BAD_REQUEST naming `field`.
 */
export function decodeCheckpoint(
  value: string | null | undefined,
  field = 'since',
): Checkpoint | null {
  if (value === undefined || value === null || value === '') return null;
  const m = CHECKPOINT_PATTERN.exec(value);
  const seq = m ? parseInt(m[2]!, 36) : NaN;
  if (!m || !Number.isSafeInteger(seq)) {
    throw new SyncError('BAD_REQUEST', `${field}: not a checkpoint issued by this server`, [
      { path: field, message: 'not a checkpoint issued by this server' },
    ]);
  }
  return { epoch: m[1]!, seq };
}

/** Position inside one full export: the checkpoint it started at and the last key sent. */
export interface FullCursor {
  checkpoint: string;
  collection: string;
  id: string;
}

/** Encodes a full-export cursor (base64url JSON; opaque to clients). */
export function encodeCursor(cursor: FullCursor): string {
  const json = JSON.stringify([cursor.checkpoint, cursor.collection, cursor.id]);
  return base64url(new TextEncoder().encode(json));
}

/** A cursor's collection is a collection name (as `collectionName` in protocol.ts). */
const CURSOR_COLLECTION = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
/** A cursor's id is a document id: at most 256 units (the ceiling of `limits.maxIdLength`), no C0 control or DEL, well-formed. */
const CURSOR_ID_MAX = 256;

/**
 * Decodes a full-export cursor; a malformed one is a BAD_REQUEST naming `cursor`, and so is one
 * whose collection is not a collection name or whose id is not a valid document id.
 */
export function decodeCursor(value: string | null | undefined): FullCursor | null {
  if (value === undefined || value === null || value === '') return null;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(value)));
    // Every key reaches a store query: a forged NUL, lone surrogate or overlong one is refused here,
    // so no face can pass it to PostgreSQL (which answers an error, a 500).
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      parsed.every((p) => typeof p === 'string') &&
      CURSOR_COLLECTION.test(parsed[1] as string) &&
      badNameReason(parsed[2], CURSOR_ID_MAX, { c1: false }) === null
    ) {
      decodeCheckpoint(parsed[0] as string, 'cursor');
      return {
        checkpoint: parsed[0] as string,
        collection: parsed[1] as string,
        id: parsed[2] as string,
      };
    }
  } catch {
    // fall through to the error below
  }
  throw new SyncError('BAD_REQUEST', 'cursor: not a cursor issued by this server', [
    { path: 'cursor', message: 'not a cursor issued by this server' },
  ]);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [n >> 18, (n >> 12) & 63, (n >> 6) & 63, n & 63].map((c) => ALPHABET[c]);
    out += chars.slice(0, Math.ceil((Math.min(3, bytes.length - i) * 8) / 6)).join('');
  }
  return out;
}

function fromBase64url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('bad base64url');
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of text) {
    buffer = (buffer << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return new Uint8Array(bytes);
}
