/** A client's history: what it wrote (with mutation ids), what the server settled, what it observed; one JSON line per event. */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** One outbox entry as written: mutation id, document, operation and the data sent. */
export interface WrittenChange {
  m: number;
  c: string;
  id: string;
  op: 'upsert' | 'patch' | 'delete';
  data: Record<string, unknown> | null;
}

/** A document's server state as the client stored it (`d: null`: deleted). */
export interface SeenDoc {
  c: string;
  id: string;
  v: string | null;
  d: Record<string, unknown> | null;
}

/** One line of a history file. `at` is ms since the epoch. */
export type HistoryEvent =
  /** The client process started: its id, what its outbox and rejected list hold (from disk, after a kill -9). */
  | {
      t: 'start';
      at: number;
      pid: number;
      clientId: string;
      outbox: number[];
      rejected: number[];
      checkpoint: string | null;
    }
  /** About to append these changes to the outbox (one local transaction); `committed` follows once stored. */
  | { t: 'write'; at: number; clientId: string; changes: WrittenChange[] }
  /** The local transaction of the preceding `write` is stored. */
  | { t: 'committed'; at: number; ms: number[] }
  /** Push answers settled: entries `removed` from the outbox; `rejected` among them; the versions the answers gave. */
  | {
      t: 'settle';
      at: number;
      removed: number[];
      rejected: number[];
      docs: { c: string; id: string; v: string | null }[];
    }
  /** The server refused the client id: outbox entries `from` were renumbered `to` under `clientId`. */
  | { t: 'renumber'; at: number; previous: string; clientId: string; from: number[]; to: number[] }
  /** Server changes stored (pull page, stream event, full-export page), with the checkpoint stored in the same write. */
  | { t: 'observe'; at: number; cp: string | null; full: boolean; docs: SeenDoc[] }
  /** A full resync finished with this checkpoint. */
  | { t: 'resynced'; at: number; cp: string }
  /** The client reported an error event (the first 200 of a life), or a watchdog said what it waits on. */
  | { t: 'error'; at: number; where: string; message: string }
  /** The client went offline (its link fails every call, live mode stopped) or online again. */
  | { t: 'offline' | 'online'; at: number }
  /** An integrity mismatch the client found (`view`: the subscription key when it was a view's), and what its repair changed. */
  | {
      t: 'integrity';
      at: number;
      collection: string;
      view: string | null;
      expected: string;
      actual: string;
      checkpoint: string;
      repaired: number | null;
    }
  /** The client subscribed to a view or left one (`key`: rule and canonical params). */
  | { t: 'view'; at: number; op: 'subscribe' | 'unsubscribe'; key: string }
  /** The client's final state after the last heal: live documents, outbox size, checkpoint and the views it holds. */
  | {
      t: 'final';
      at: number;
      pending: number;
      checkpoint: string | null;
      docs: SeenDoc[];
      drainedMs: number;
      views?: FinalView[];
    };

/** A subscription the client holds at the end of a run. */
export interface FinalView {
  key: string;
  rule: string;
  params: Record<string, unknown> | null;
  status: string;
}

/** Appends events to a history file; each append is one write(2), so a kill -9 loses at most the event being made. */
export class HistoryWriter {
  constructor(readonly path: string) {}

  /** Appends one event. */
  add(event: HistoryEvent): void {
    appendFileSync(this.path, JSON.stringify(event) + '\n');
  }
}

/** Reads a history file (a torn last line, from a kill -9 mid-append, is skipped). */
export function readHistory(path: string): HistoryEvent[] {
  if (!existsSync(path)) return [];
  const out: HistoryEvent[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as HistoryEvent);
    } catch {
      // a line cut by kill -9
    }
  }
  return out;
}
