/**
 * The history checker: pure functions over every client's history, the server's oplog and its
 * `full` state. Acknowledged writes are in the oplog exactly once; nothing appears that no client
 * wrote; every client converged and drained; per client, reads are monotonic (checkpoints and
 * document versions never go back), read-your-writes holds and a push is seen whole or not at all.
 */
import type { HistoryEvent, SeenDoc, WrittenChange } from './history.js';
import type { OplogRow } from './server-state.js';

/** The kinds of broken promise the checker knows. */
export type ViolationKind =
  | 'lost'
  | 'duplicated'
  | 'phantom'
  | 'rejected-applied'
  | 'unknown-value'
  | 'wedged'
  | 'not-converged'
  | 'checkpoint-back'
  | 'version-back'
  | 'read-your-writes'
  | 'partial-push'
  | 'phantom-state'
  | 'server-version-back'
  | 'view-mismatch'
  | 'kept-own-write';

/** One broken promise, with the few events that show it (a minimal failing history). */
export interface Violation {
  kind: ViolationKind;
  /** The client whose history shows it (absent for server-wide findings). */
  client?: number;
  message: string;
  evidence: unknown[];
}

/** Everything the checker reads. */
export interface RunRecord {
  /** `histories[i]`: client i's events, in the order it wrote them. */
  histories: HistoryEvent[][];
  oplog: OplogRow[];
  /** The server's ledger: first outcome (`accepted`, `conflict_resolved`, `rejected`) per `clientId#mutationId`. */
  ledger: ReadonlyMap<string, string>;
  /**
   * The version the server answered with, per `clientId#mutationId` (as kept with each outcome in
   * its ledger). The client's own record of it is missing when the answered document left every
   * view at once (it is deleted from the device, not stored), so an absorbed delete is also known
   * from here.
   */
  ledgerVersions?: ReadonlyMap<string, string>;
  /** The server's live documents (its `full` export) after the run. */
  full: SeenDoc[];
  /** Collections served only through views: left out of `full`'s comparison, checked against `views`. */
  ruled?: ReadonlySet<string>;
  /**
   * Per client (index), the server's own answer for its final subscriptions: the union of `full({ view })`
   * over the views its final state lists. Its ruled documents must be exactly these.
   */
  views?: ReadonlyMap<number, SeenDoc[]>;
}

/** What the checker counted. */
export interface CheckCounts {
  writes: number;
  acked: number;
  /** Acknowledged writes whose answer the client died before recording (known from its outbox on restart). */
  ackedInferred: number;
  rejected: number;
  /**
   * Acknowledged writes with no oplog entry of their own because newer writes won: `conflict_resolved`
   * ones that lost every field, and accepted ones the document already met when they arrived
   * (deletes of a document a newer tombstone had deleted, patches to values newer writes had set).
   */
  superseded: number;
  lost: number;
  duplicated: number;
  phantom: number;
  wedged: number;
  converged: number;
  clients: number;
  observations: number;
  oplog: number;
  /** Subscribes and unsubscribes the clients made. */
  subscribes: number;
  unsubscribes: number;
  /** Committed writes that moved a ruled document (a patch of a field a rule filters on). */
  moves: number;
  /** Ruled documents the clients held at the end (all clients together), each checked against its views. */
  viewDocs: number;
  /** Integrity mismatches the clients found (collections and views): nothing edits their stores here, so ideally 0. */
  integrity: number;
}

/** The checker's answer: `ok` when no violation was found. */
export interface CheckResult {
  ok: boolean;
  counts: CheckCounts;
  violations: Violation[];
}

interface WriteInfo {
  client: number;
  /** Its mutation id now (a renumbering after CLIENT_ID_CONFLICT changes it). */
  m: number;
  /** The document version the push answer gave (from the `settle` that acknowledged it). */
  ackVersion: string | null;
  change: WrittenChange;
  write: HistoryEvent;
  committed: boolean;
  acked: 'yes' | 'inferred' | null;
  rejected: boolean;
  applied: OplogRow[];
}

/** JSON with object keys sorted, so equal documents compare equal whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The seq a checkpoint names (the harness may decode what clients must treat as opaque), or null. */
export function checkpointSeq(cp: string | null): number | null {
  const m = cp ? /^c1\.[a-z0-9]+\.([0-9a-z]+)$/.exec(cp) : null;
  return m ? parseInt(m[1]!, 36) : null;
}

const docKey = (c: string, id: string) => `${c}/${id}`;
const writeKey = (clientId: string, m: number) => `${clientId}#${m}`;

/** Whether an oplog entry's state already holds what a change asked for (its intent). */
function meets(row: OplogRow | undefined, change: WrittenChange): boolean {
  if (!row) return false;
  if (change.op === 'delete') return row.op === 'delete';
  if (row.op === 'delete' || !row.d) return false;
  const data = row.d;
  if (change.op === 'upsert') return canonical(data) === canonical(change.data);
  return Object.entries(change.data ?? {}).every(([field, value]) =>
    value === null ? !(field in data) : canonical(data[field]) === canonical(value),
  );
}

/** Checks a run; see the module comment for what. */
export function checkRun(run: RunRecord): CheckResult {
  const violations: Violation[] = [];
  const ruled = run.ruled ?? new Set<string>();
  const registry = new Map<string, WriteInfo>();
  const infos: WriteInfo[] = [];
  /** Field values each document was ever sent, for provenance. */
  const sentValues = new Map<string, Set<string>>();

  // Oplog indexes: by seq (a push), and by exact state (document, version, data) to the seqs that made it.
  const bySeq = new Map<number, OplogRow[]>();
  const byState = new Map<string, number[]>();
  /** Latest seq at which a document had a version (`collection/id@version`), whatever its data. */
  const seqOfVersion = new Map<string, number>();
  /** The oplog entry that gave a document a version (`collection/id@version`), the latest if several. */
  const rowAt = new Map<string, OplogRow>();
  for (const row of run.oplog) {
    const at = `${docKey(row.c, row.id)}@${row.v}`;
    seqOfVersion.set(at, Math.max(seqOfVersion.get(at) ?? 0, row.seq));
    rowAt.set(at, row);
    let push = bySeq.get(row.seq);
    if (!push) bySeq.set(row.seq, (push = []));
    push.push(row);
    const key = `${docKey(row.c, row.id)}@${row.v}@${canonical(row.d)}`;
    let seqs = byState.get(key);
    if (!seqs) byState.set(key, (seqs = []));
    seqs.push(row.seq);
  }

  let observations = 0;
  run.histories.forEach((events, client) => {
    let clientId = '';
    let lastIntent: WriteInfo[] = [];
    let lastCp = -1;
    const lastVersion = new Map<string, { v: string; event: HistoryEvent }>();
    const floor = new Map<string, { v: string; event: HistoryEvent }>();
    const seenSeq = new Map<string, number>();
    const mine = () => infos.filter((i) => i.client === client);
    for (const e of events) {
      switch (e.t) {
        case 'start': {
          clientId = e.clientId;
          const inOutbox = new Set(e.outbox);
          const rejected = new Set(e.rejected);
          for (const info of mine()) {
            if (info.acked || info.rejected) continue;
            const id = info.m;
            if (inOutbox.has(id)) info.committed = true;
            else if (rejected.has(id)) info.rejected = true;
            else if (info.committed) info.acked = 'inferred';
          }
          lastIntent = [];
          break;
        }
        case 'write': {
          lastIntent = e.changes.map((change) => {
            const info: WriteInfo = {
              client,
              m: change.m,
              ackVersion: null,
              change,
              write: e,
              committed: false,
              acked: null,
              rejected: false,
              applied: [],
            };
            registry.set(writeKey(e.clientId, change.m), info);
            infos.push(info);
            const key = docKey(change.c, change.id);
            let values = sentValues.get(key);
            if (!values) sentValues.set(key, (values = new Set()));
            for (const [field, value] of Object.entries(change.data ?? {}))
              values.add(`${field}=${canonical(value)}`);
            return info;
          });
          break;
        }
        case 'committed':
          for (const info of lastIntent) if (e.ms.includes(info.change.m)) info.committed = true;
          break;
        case 'settle': {
          const rejected = new Set(e.rejected);
          const ackedDocs = new Set<string>();
          for (const m of e.removed) {
            const info = registry.get(writeKey(clientId, m));
            if (!info) continue;
            info.committed = true;
            if (rejected.has(m)) info.rejected = true;
            else {
              info.acked = 'yes';
              ackedDocs.add(docKey(info.change.c, info.change.id));
              info.ackVersion =
                e.docs.find((d) => d.c === info.change.c && d.id === info.change.id)?.v ?? null;
              // The client now holds the document as of its own push: a later page may rightly leave older commits of it out.
              const heldSeq = info.ackVersion
                ? seqOfVersion.get(`${docKey(info.change.c, info.change.id)}@${info.ackVersion}`)
                : undefined;
              const key = docKey(info.change.c, info.change.id);
              if (heldSeq !== undefined) seenSeq.set(key, Math.max(seenSeq.get(key) ?? 0, heldSeq));
            }
          }
          // Read-your-writes: once a write is acknowledged, its document never shows an older version.
          for (const d of e.docs) {
            const key = docKey(d.c, d.id);
            if (d.v && ackedDocs.has(key) && (!floor.has(key) || floor.get(key)!.v < d.v))
              floor.set(key, { v: d.v, event: e });
          }
          break;
        }
        case 'renumber':
          e.from.forEach((m, i) => {
            const info = registry.get(writeKey(e.previous, m));
            if (!info) return;
            info.m = e.to[i]!;
            registry.set(writeKey(e.clientId, info.m), info);
          });
          clientId = e.clientId;
          break;
        case 'observe':
        case 'resynced': {
          observations++;
          const cp = checkpointSeq(e.cp);
          if (cp !== null && !(e.t === 'observe' && e.full)) {
            if (cp < lastCp)
              violations.push({
                kind: 'checkpoint-back',
                client,
                message: `client ${client}: checkpoint went back from seq ${lastCp} to ${cp}`,
                evidence: [e],
              });
            lastCp = Math.max(lastCp, cp);
          }
          if (e.t === 'resynced') break;
          const pushes = new Set<number>();
          for (const d of e.docs) {
            if (d.v === null) continue;
            const key = docKey(d.c, d.id);
            const before = lastVersion.get(key);
            if (before && d.v < before.v)
              violations.push({
                kind: 'version-back',
                client,
                message: `client ${client}: ${key} went back from version ${before.v} to ${d.v}`,
                evidence: [before.event, e],
              });
            if (!before || before.v < d.v) lastVersion.set(key, { v: d.v, event: e });
            const mineFloor = floor.get(key);
            if (mineFloor && d.v < mineFloor.v)
              violations.push({
                kind: 'read-your-writes',
                client,
                message: `client ${client}: ${key} shows version ${d.v} after its own write was acknowledged at ${mineFloor.v}`,
                evidence: [mineFloor.event, e],
              });
            const seqs = byState.get(`${key}@${d.v}@${canonical(d.d)}`);
            if (!seqs) {
              violations.push({
                kind: 'phantom-state',
                client,
                message: `client ${client}: observed ${key} at ${d.v} with data the server never had`,
                evidence: [e],
              });
              continue;
            }
            const s = Math.max(...seqs);
            seenSeq.set(key, Math.max(seenSeq.get(key) ?? 0, s));
            if (seqs.length === 1 && !ruled.has(d.c)) pushes.add(s);
          }
          if (e.full) break;
          // A push is seen whole or not at all: every document of a push seen here is at that push or later.
          for (const s of pushes) {
            // Documents of ruled collections are seen only while a view holds them: not part of this check.
            const missing = (bySeq.get(s) ?? []).filter(
              (row) => !ruled.has(row.c) && (seenSeq.get(docKey(row.c, row.id)) ?? 0) < s,
            );
            if (missing.length > 0)
              violations.push({
                kind: 'partial-push',
                client,
                message: `client ${client}: saw part of push seq ${s} (missing ${missing.map((r) => docKey(r.c, r.id)).join(', ')})`,
                evidence: [e, ...missing],
              });
          }
          break;
        }
        default:
          break;
      }
    }
  });

  // The server's own order: a document's version never goes back from one commit to the next.
  const serverVersion = new Map<string, OplogRow>();
  for (const row of run.oplog) {
    const key = docKey(row.c, row.id);
    const before = serverVersion.get(key);
    if (before && row.v < before.v)
      violations.push({
        kind: 'server-version-back',
        message: `oplog: ${key} went from ${before.v} (seq ${before.seq}) back to ${row.v} (seq ${row.seq})`,
        evidence: [before, row],
      });
    serverVersion.set(key, row);
  }

  // Every oplog entry comes from a client's write, and each write is applied at most once.
  for (const row of run.oplog) {
    const info =
      row.clientId !== null && row.m !== null
        ? registry.get(writeKey(row.clientId, row.m))
        : undefined;
    // A put that lost to a newer delete is stored as that tombstone (conflict_resolved): only then may the op differ.
    const opDiffers =
      info !== undefined &&
      (info.change.op === 'delete') !== (row.op === 'delete') &&
      run.ledger.get(writeKey(row.clientId!, row.m!)) !== 'conflict_resolved';
    if (!info || info.change.c !== row.c || info.change.id !== row.id || opDiffers) {
      violations.push({
        kind: 'phantom',
        message: `oplog seq ${row.seq}.${row.idx} (${docKey(row.c, row.id)} by ${row.clientId}#${row.m}) matches no client's write`,
        evidence: [row, ...(info ? [info.write] : [])],
      });
      continue;
    }
    info.applied.push(row);
    if (row.op === 'upsert') {
      const values = sentValues.get(docKey(row.c, row.id)) ?? new Set();
      for (const [field, value] of Object.entries(row.d ?? {})) {
        if (field === 'done') continue; // booleans (and the schema default) carry no provenance
        if (!values.has(`${field}=${canonical(value)}`))
          violations.push({
            kind: 'unknown-value',
            message: `oplog seq ${row.seq}: ${docKey(row.c, row.id)}.${field} = ${canonical(value)} was never written by a client`,
            evidence: [row],
          });
      }
    }
  }
  let lost = 0;
  let duplicated = 0;
  let superseded = 0;
  const ledgerKeys = new Map<WriteInfo, string>();
  for (const [key, info] of registry) if (run.ledger.has(key)) ledgerKeys.set(info, key);
  const known = new Set(registry.keys());
  for (const key of run.ledger.keys()) {
    if (!known.has(key))
      violations.push({
        kind: 'phantom',
        message: `the server's ledger holds ${key}, which no client wrote`,
        evidence: [{ key, status: run.ledger.get(key) }],
      });
  }
  for (const info of infos) {
    const key = ledgerKeys.get(info);
    const outcome = key ? run.ledger.get(key)! : null;
    if (info.applied.length > 1) {
      duplicated++;
      violations.push({
        kind: 'duplicated',
        client: info.client,
        message: `client ${info.client}: write #${info.change.m} (${docKey(info.change.c, info.change.id)}) applied ${info.applied.length} times`,
        evidence: [info.write, ...info.applied],
      });
    }
    // Acknowledged: the server recorded it; accepted ones are in the oplog, a conflict_resolved one
    // is there unless newer writes won every field it set.
    // A write the document already met changes nothing: accepted, answered with the version that
    // met it (a delete of a document a newer tombstone deleted; a patch whose fields newer writes
    // already set to the same values).
    const answeredWith = [info.ackVersion, key ? run.ledgerVersions?.get(key) : undefined];
    const absorbed = answeredWith.some(
      (v) =>
        v != null && meets(rowAt.get(`${docKey(info.change.c, info.change.id)}@${v}`), info.change),
    );
    if (
      info.acked &&
      !info.rejected &&
      (outcome === null || (outcome === 'accepted' && info.applied.length === 0 && !absorbed))
    ) {
      lost++;
      violations.push({
        kind: 'lost',
        client: info.client,
        message: `client ${info.client}: acknowledged write #${info.change.m} (${docKey(info.change.c, info.change.id)}) is ${outcome === null ? "not in the server's ledger" : "accepted but not in the server's oplog"}`,
        evidence: [info.write],
      });
    } else if (
      info.acked &&
      info.applied.length === 0 &&
      (outcome === 'conflict_resolved' || absorbed)
    )
      superseded++;
    if (outcome === 'rejected' && info.acked && !info.rejected)
      violations.push({
        kind: 'lost',
        client: info.client,
        message: `client ${info.client}: write #${info.change.m} was rejected by the server but the client took it as acknowledged`,
        evidence: [info.write],
      });
    if (info.rejected && info.applied.length > 0)
      violations.push({
        kind: 'rejected-applied',
        client: info.client,
        message: `client ${info.client}: write #${info.change.m} was answered rejected but applied`,
        evidence: [info.write, ...info.applied],
      });
  }

  // After the last heal: every client drained its outbox and holds exactly the server's full state.
  const server = new Map(
    run.full.filter((d) => !ruled.has(d.c)).map((d) => [docKey(d.c, d.id), d]),
  );
  let viewDocs = 0;
  let wedged = 0;
  let converged = 0;
  run.histories.forEach((events, client) => {
    const final = [...events]
      .reverse()
      .find((e): e is Extract<HistoryEvent, { t: 'final' }> => e.t === 'final');
    if (!final) {
      wedged++;
      violations.push({
        kind: 'wedged',
        client,
        message: `client ${client}: no final state (did not finish draining)`,
        evidence: events.slice(-3),
      });
      return;
    }
    if (final.pending > 0) {
      wedged++;
      violations.push({
        kind: 'wedged',
        client,
        message: `client ${client}: ${final.pending} changes still in its outbox after the last heal`,
        evidence: [{ ...final, docs: `${final.docs.length} docs` }],
      });
    }
    const local = new Map(
      final.docs.filter((d) => !ruled.has(d.c)).map((d) => [docKey(d.c, d.id), d]),
    );
    const diff: string[] = [];
    for (const [key, d] of server) {
      const l = local.get(key);
      if (!l) diff.push(`${key}: missing (server ${d.v})`);
      else if (l.v !== d.v || canonical(l.d) !== canonical(d.d))
        diff.push(`${key}: ${l.v} ${canonical(l.d)} vs server ${d.v} ${canonical(d.d)}`);
    }
    for (const key of local.keys()) if (!server.has(key)) diff.push(`${key}: not on the server`);
    // Ruled collections: exactly the union of the client's views, as the server's own query of its rules returns them.
    // Versions this client's own acknowledged writes gave (a document it wrote that no view holds: `kept-own-write`).
    const own = new Set(
      infos
        .filter((i) => i.client === client && i.acked && i.ackVersion)
        .map((i) => `${docKey(i.change.c, i.change.id)}@${i.ackVersion}`),
    );
    const { diff: viewDiff, kept } =
      ruled.size > 0
        ? compareViews(final, run.views?.get(client) ?? [], ruled, own)
        : { diff: [], kept: [] };
    if (kept.length > 0)
      violations.push({
        kind: 'kept-own-write',
        client,
        message: `client ${client}: ${kept.length} documents it wrote itself stay outside its views after the push`,
        evidence: kept.slice(0, 5),
      });
    viewDocs += final.docs.filter((d) => ruled.has(d.c)).length;
    if (viewDiff.length > 0)
      violations.push({
        kind: 'view-mismatch',
        client,
        message: `client ${client}: ${viewDiff.length} ruled documents differ from the union of its views (${(final.views ?? []).map((v) => v.key).join(', ') || 'none'})`,
        evidence: viewDiff.slice(0, 5),
      });
    if (diff.length > 0)
      violations.push({
        kind: 'not-converged',
        client,
        message: `client ${client}: ${diff.length} documents differ from the server's full state`,
        evidence: diff.slice(0, 5),
      });
    else if (final.pending === 0 && viewDiff.length === 0) converged++;
  });
  let subscribes = 0;
  let unsubscribes = 0;
  for (const events of run.histories) {
    for (const e of events)
      if (e.t === 'view') {
        if (e.op === 'subscribe') subscribes++;
        else unsubscribes++;
      }
  }
  const integrity = run.histories.reduce(
    (n, events) => n + events.filter((e) => e.t === 'integrity').length,
    0,
  );
  const moved = (i: WriteInfo) =>
    ruled.has(i.change.c) &&
    i.change.op === 'patch' &&
    i.change.data !== null &&
    ('assignee' in i.change.data || 'team' in i.change.data);

  const counts: CheckCounts = {
    writes: infos.filter((i) => i.committed).length,
    acked: infos.filter((i) => i.acked && !i.rejected).length,
    ackedInferred: infos.filter((i) => i.acked === 'inferred' && !i.rejected).length,
    rejected: infos.filter((i) => i.rejected).length,
    superseded,
    lost,
    duplicated,
    phantom: violations.filter((v) => v.kind === 'phantom' || v.kind === 'unknown-value').length,
    wedged,
    converged,
    clients: run.histories.length,
    observations,
    oplog: run.oplog.length,
    subscribes,
    unsubscribes,
    moves: infos.filter((i) => i.committed && moved(i)).length,
    viewDocs,
    integrity,
  };
  return { ok: violations.length === 0, counts, violations };
}

/**
 * A client's final ruled documents against `expected` (the server's documents of its views): every
 * difference, as `collection/id: …` lines (`diff`; also a view not synced to the end), and apart
 * (`kept`) the documents outside its views that it holds at a version its own write gave them
 * (`own`: `collection/id@version`).
 */
export function compareViews(
  final: Extract<HistoryEvent, { t: 'final' }>,
  expected: readonly SeenDoc[],
  ruled: ReadonlySet<string>,
  own: ReadonlySet<string> = new Set(),
): { diff: string[]; kept: string[] } {
  const diff: string[] = [];
  const kept: string[] = [];
  for (const v of final.views ?? [])
    if (v.status !== 'ready') diff.push(`view ${v.key}: ${v.status} at the end`);
  const want = new Map(expected.map((d) => [docKey(d.c, d.id), d]));
  const have = new Map(final.docs.filter((d) => ruled.has(d.c)).map((d) => [docKey(d.c, d.id), d]));
  for (const [key, d] of want) {
    const l = have.get(key);
    if (!l) diff.push(`${key}: missing (in its views at ${d.v})`);
    else if (l.v !== d.v || canonical(l.d) !== canonical(d.d))
      diff.push(`${key}: ${l.v} ${canonical(l.d)} vs its views ${d.v} ${canonical(d.d)}`);
  }
  for (const [key, l] of have) {
    if (want.has(key)) continue;
    const line = `${key}: outside its views (held at ${l.v} ${canonical(l.d)})`;
    if (own.has(`${key}@${l.v}`)) kept.push(line);
    else diff.push(line);
  }
  return { diff, kept };
}

/** The seed and the first violations with their events: what to print when a run fails. */
export function describeFailure(seed: number, result: CheckResult, max = 5): string {
  const byKind = new Map<string, number>();
  for (const v of result.violations) byKind.set(v.kind, (byKind.get(v.kind) ?? 0) + 1);
  const lines = [
    `torture FAILED: seed=${seed} violations=${result.violations.length} (${[...byKind].map(([k, n]) => `${k}=${n}`).join(' ')})`,
  ];
  for (const v of result.violations.slice(0, max)) {
    lines.push(`- ${v.kind}: ${v.message}`);
    for (const e of v.evidence) lines.push(`    ${JSON.stringify(e).slice(0, 600)}`);
  }
  lines.push(`replay: npm run torture -- --seed ${seed} (with the same size options)`);
  return lines.join('\n');
}
