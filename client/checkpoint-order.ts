/** Whether a server page or event is older than what the local store already holds, so applying it would move the replica backwards. */
import { decodeCheckpoint } from '../shared/checkpoint.js';

/**
 * True when `candidate` is a checkpoint of the same store epoch as `stored` and an earlier commit
 * (a pull page read before a stream event already stored, or stream events delivered out of
 * order). Checkpoints this kit does not recognise, or of another epoch (a restored database: the
 * server answers those with a resync), are never "behind".
 *
 * @example
 * isBehind('c1.ab12.9', 'c1.ab12.a'); // true: seq 9 < 10
 */
export function isBehind(candidate: string, stored: string | null): boolean {
  if (stored === null || candidate === stored) return false;
  try {
    const a = decodeCheckpoint(candidate);
    const b = decodeCheckpoint(stored);
    return a !== null && b !== null && a.epoch === b.epoch && a.seq < b.seq;
  } catch {
    return false;
  }
}

/** True when a server `version` (HLC) is older than the one the local copy already holds: the server never moves a document back. */
export function versionBehind(version: string, held: string | null | undefined): boolean {
  return typeof held === 'string' && version < held;
}
