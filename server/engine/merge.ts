/**
 * Field-level last-writer-wins merge. A document is a set of registers: one per field (value and
 * HLC), one for the delete flag, and a "cleared" watermark set by whole-document upserts. Each
 * register keeps the write with the highest HLC (ties broken by the value's JSON text), so
 * replicas that have seen the same changes hold the same document whatever the arrival order.
 */
import { compareHlc } from '../../shared/hlc.js';

/** Key of the delete flag's HLC in the fields map (the `_sync_` prefix is reserved in data). */
export const DELETED_KEY = '_sync_deleted';
/** Key of the whole-document upsert watermark in the fields map. */
export const CLEARED_KEY = '_sync_cleared';

/** The mergeable state of one document. */
export interface DocState {
  data: Record<string, unknown>;
  fields: Record<string, string>;
  deleted: boolean;
  /** False until some change has created the document. */
  exists: boolean;
}

export function emptyState(): DocState {
  return { data: {}, fields: {}, deleted: true, exists: false };
}

function valueKey(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

/** True when the write (hlc, value) beats the register (current hlc, current value). */
function wins(
  hlc: string,
  value: unknown,
  currentHlc: string | undefined,
  currentValue: unknown,
): boolean {
  if (currentHlc === undefined) return true;
  const c = compareHlc(hlc, currentHlc);
  return c > 0 || (c === 0 && valueKey(value) > valueKey(currentValue));
}

function clone(state: DocState): DocState {
  return {
    data: { ...state.data },
    fields: { ...state.fields },
    deleted: state.deleted,
    exists: state.exists,
  };
}

/** Writes one field (undefined value = remove) at `hlc` if it beats the field and the watermark. */
function writeField(state: DocState, field: string, value: unknown, hlc: string): void {
  const cleared = state.fields[CLEARED_KEY];
  if (cleared !== undefined && compareHlc(hlc, cleared) <= 0) return;
  if (!wins(hlc, value, state.fields[field], state.data[field])) return;
  state.fields[field] = hlc;
  if (value === undefined) delete state.data[field];
  else state.data[field] = value;
}

function writeDeleted(state: DocState, deleted: boolean, hlc: string): void {
  if (wins(hlc, deleted, state.fields[DELETED_KEY], state.deleted)) {
    state.fields[DELETED_KEY] = hlc;
    state.deleted = deleted;
  }
}

/** Whole-document write: sets every given field, removes the others as of `hlc`. */
export function applyUpsert(
  current: DocState,
  data: Record<string, unknown>,
  hlc: string,
): DocState {
  const next = clone(current);
  next.exists = true;
  const cleared = next.fields[CLEARED_KEY];
  if (cleared === undefined || compareHlc(hlc, cleared) > 0) {
    // Raise the watermark: older writes to fields this upsert does not name are gone.
    for (const field of Object.keys(next.fields)) {
      if (field === DELETED_KEY || field in data) continue;
      if (compareHlc(next.fields[field]!, hlc) < 0) {
        delete next.fields[field];
        delete next.data[field];
      }
    }
    for (const [field, value] of Object.entries(data)) writeField(next, field, value, hlc);
    next.fields[CLEARED_KEY] = hlc;
  } else {
    for (const [field, value] of Object.entries(data)) writeField(next, field, value, hlc);
  }
  writeDeleted(next, false, hlc);
  return next;
}

/** JSON merge patch: given fields change, `null` removes a field. */
export function applyPatch(
  current: DocState,
  patch: Record<string, unknown>,
  hlc: string,
): DocState {
  const next = clone(current);
  next.exists = true;
  for (const [field, value] of Object.entries(patch))
    writeField(next, field, value === null ? undefined : value, hlc);
  writeDeleted(next, false, hlc);
  return next;
}

/** Tombstone: sets the delete flag as of `hlc` (field values are kept for resurrection). */
export function applyDelete(current: DocState, hlc: string, force = false): DocState {
  const next = clone(current);
  next.exists = true;
  if (force) {
    // delete_wins / reject_update: a delete stands whatever its HLC.
    next.deleted = true;
    const at = next.fields[DELETED_KEY];
    next.fields[DELETED_KEY] = at !== undefined && compareHlc(at, hlc) > 0 ? at : hlc;
  } else writeDeleted(next, true, hlc);
  return next;
}

/** Greatest HLC of the state: the document's version. */
export function versionOf(state: DocState): string {
  let max = '';
  for (const hlc of Object.values(state.fields)) if (hlc > max) max = hlc;
  return max;
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) =>
        Object.prototype.hasOwnProperty.call(b, k) &&
        jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

/** True when two states are identical (no write needed). */
export function sameState(a: DocState, b: DocState): boolean {
  return (
    a.exists === b.exists &&
    a.deleted === b.deleted &&
    jsonEqual(a.fields, b.fields) &&
    jsonEqual(a.data, b.data)
  );
}
