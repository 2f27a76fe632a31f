/** The history checker on hand-made histories: a clean one passes; each broken promise is found and named. */
import { describe, expect, it } from 'vitest';
import { checkRun, checkpointSeq, describeFailure, type RunRecord } from './checker.js';
import type { HistoryEvent } from './history.js';
import type { OplogRow } from './server-state.js';

const CP = (seq: number) => `c1.ep0ch.${seq.toString(36)}`;
const V = (n: number) => `20260101T000000.${String(n).padStart(3, '0')}Z-0000-nodeA`;
const row = (
  seq: number,
  idx: number,
  id: string,
  v: number,
  d: Record<string, unknown> | null,
  clientId: string,
  m: number,
): OplogRow => ({ seq, idx, c: 'tasks', id, op: d ? 'upsert' : 'delete', d, v: V(v), clientId, m });

/**
 * A clean run: client 0 (`A`) writes t1 (m1) and a putMany of t2+t3 (m2, m3); client 1 (`B`)
 * patches t1 (m1). Both observe every commit and end with the server's state.
 */
function cleanRun(): RunRecord {
  const oplog: OplogRow[] = [
    row(1, 0, 't1', 1, { title: 'a1' }, 'A', 1),
    row(2, 0, 't2', 2, { title: 'a2' }, 'A', 2),
    row(2, 1, 't3', 3, { title: 'a3' }, 'A', 3),
    row(3, 0, 't1', 4, { title: 'b1' }, 'B', 1),
  ];
  const full = [
    { c: 'tasks', id: 't1', v: V(4), d: { title: 'b1' } },
    { c: 'tasks', id: 't2', v: V(2), d: { title: 'a2' } },
    { c: 'tasks', id: 't3', v: V(3), d: { title: 'a3' } },
  ];
  const observeAll: HistoryEvent[] = [
    {
      t: 'observe',
      at: 5,
      cp: CP(1),
      full: false,
      docs: [{ c: 'tasks', id: 't1', v: V(1), d: { title: 'a1' } }],
    },
    {
      t: 'observe',
      at: 6,
      cp: CP(2),
      full: false,
      docs: [
        { c: 'tasks', id: 't2', v: V(2), d: { title: 'a2' } },
        { c: 'tasks', id: 't3', v: V(3), d: { title: 'a3' } },
      ],
    },
    {
      t: 'observe',
      at: 7,
      cp: CP(3),
      full: false,
      docs: [{ c: 'tasks', id: 't1', v: V(4), d: { title: 'b1' } }],
    },
  ];
  const final: HistoryEvent = {
    t: 'final',
    at: 9,
    pending: 0,
    checkpoint: CP(3),
    docs: full,
    drainedMs: 5,
  };
  const a: HistoryEvent[] = [
    { t: 'start', at: 0, pid: 1, clientId: 'A', outbox: [], rejected: [], checkpoint: null },
    {
      t: 'write',
      at: 1,
      clientId: 'A',
      changes: [{ m: 1, c: 'tasks', id: 't1', op: 'upsert', data: { title: 'a1' } }],
    },
    { t: 'committed', at: 1, ms: [1] },
    { t: 'settle', at: 2, removed: [1], rejected: [], docs: [{ c: 'tasks', id: 't1', v: V(1) }] },
    {
      t: 'write',
      at: 3,
      clientId: 'A',
      changes: [
        { m: 2, c: 'tasks', id: 't2', op: 'upsert', data: { title: 'a2' } },
        { m: 3, c: 'tasks', id: 't3', op: 'upsert', data: { title: 'a3' } },
      ],
    },
    { t: 'committed', at: 3, ms: [2, 3] },
    {
      t: 'settle',
      at: 4,
      removed: [2, 3],
      rejected: [],
      docs: [
        { c: 'tasks', id: 't2', v: V(2) },
        { c: 'tasks', id: 't3', v: V(3) },
      ],
    },
    ...observeAll,
    final,
  ];
  const b: HistoryEvent[] = [
    { t: 'start', at: 0, pid: 2, clientId: 'B', outbox: [], rejected: [], checkpoint: null },
    observeAll[0]!,
    {
      t: 'write',
      at: 6,
      clientId: 'B',
      changes: [{ m: 1, c: 'tasks', id: 't1', op: 'patch', data: { title: 'b1' } }],
    },
    { t: 'committed', at: 6, ms: [1] },
    { t: 'settle', at: 7, removed: [1], rejected: [], docs: [{ c: 'tasks', id: 't1', v: V(4) }] },
    observeAll[1]!,
    observeAll[2]!,
    final,
  ];
  const ledger = new Map([
    ['A#1', 'accepted'],
    ['A#2', 'accepted'],
    ['A#3', 'accepted'],
    ['B#1', 'accepted'],
  ]);
  return { histories: [a, b], oplog, ledger, full };
}

const kinds = (run: RunRecord) => checkRun(run).violations.map((v) => v.kind);

describe('history checker', () => {
  it('ruled collections: each client holds exactly the union of its views; documents outside or missing are found, its own writes kept outside apart', () => {
    const run = cleanRun();
    const all = run.full;
    // The clean run with tasks ruled and each client's views holding all of them: no violation.
    expect(
      checkRun({
        ...run,
        ruled: new Set(['tasks']),
        views: new Map([
          [0, all],
          [1, all],
        ]),
      }).violations,
    ).toEqual([]);
    // Client 1's views hold only t1: t2 and t3 (written by client 0) are outside them.
    // Client 0's views hold nothing: t1 (client 1's version) is outside; t2, t3 are its own writes kept.
    const result = checkRun({
      ...run,
      ruled: new Set(['tasks']),
      views: new Map([
        [0, []],
        [1, all.slice(0, 1)],
      ]),
    });
    expect(result.violations.map((v) => [v.kind, v.client])).toEqual([
      ['kept-own-write', 0],
      ['view-mismatch', 0],
      ['view-mismatch', 1],
    ]);
    expect(result.violations[1]!.evidence).toEqual([
      expect.stringContaining('tasks/t1: outside its views'),
    ]);
    expect(result.violations[2]!.evidence).toHaveLength(2);
    // A document of its views the client does not hold is missing.
    const missing = checkRun({
      ...run,
      ruled: new Set(['tasks']),
      views: new Map([
        [0, all],
        [1, [...all, { c: 'tasks', id: 't9', v: V(9), d: { title: 'x' } }]],
      ]),
    });
    expect(missing.violations.map((v) => v.evidence)).toEqual([
      [expect.stringContaining('tasks/t9: missing')],
    ]);
    expect(missing.counts.viewDocs).toBe(6);
  });

  it('passes a clean history and counts it', () => {
    const result = checkRun(cleanRun());
    expect(result.violations).toEqual([]);
    expect(result.counts).toMatchObject({
      writes: 4,
      acked: 4,
      lost: 0,
      duplicated: 0,
      wedged: 0,
      converged: 2,
      clients: 2,
    });
  });

  it('finds an acknowledged write missing from the server (lost)', () => {
    const run = cleanRun();
    run.oplog = run.oplog.filter((r) => !(r.clientId === 'A' && r.m === 3));
    expect(kinds(run)).toContain('lost');
    run.ledger = new Map([...run.ledger].filter(([k]) => k !== 'A#3'));
    expect(kinds(run)).toContain('lost');
  });

  it('a page that leaves out a document the client holds newer from its own acknowledged push is not a partial push', () => {
    const oplog: OplogRow[] = [
      row(1, 0, 't1', 1, { title: 'a1' }, 'A', 1),
      row(1, 1, 't2', 2, { title: 'a2' }, 'A', 2),
      row(2, 0, 't2', 3, { title: 'b2' }, 'B', 1),
    ];
    const full = [
      { c: 'tasks', id: 't1', v: V(1), d: { title: 'a1' } },
      { c: 'tasks', id: 't2', v: V(3), d: { title: 'b2' } },
    ];
    const final: HistoryEvent = {
      t: 'final',
      at: 9,
      pending: 0,
      checkpoint: CP(2),
      docs: full,
      drainedMs: 5,
    };
    const a: HistoryEvent[] = [
      { t: 'start', at: 0, pid: 1, clientId: 'A', outbox: [], rejected: [], checkpoint: null },
      {
        t: 'write',
        at: 1,
        clientId: 'A',
        changes: [
          { m: 1, c: 'tasks', id: 't1', op: 'upsert', data: { title: 'a1' } },
          { m: 2, c: 'tasks', id: 't2', op: 'upsert', data: { title: 'a2' } },
        ],
      },
      { t: 'committed', at: 1, ms: [1, 2] },
      {
        t: 'settle',
        at: 2,
        removed: [1, 2],
        rejected: [],
        docs: [
          { c: 'tasks', id: 't1', v: V(1) },
          { c: 'tasks', id: 't2', v: V(2) },
        ],
      },
      {
        t: 'observe',
        at: 5,
        cp: CP(2),
        full: false,
        docs: [{ c: 'tasks', id: 't2', v: V(3), d: { title: 'b2' } }],
      },
      final,
    ];
    const b = (ownPush: boolean): HistoryEvent[] => [
      { t: 'start', at: 0, pid: 2, clientId: 'B', outbox: [], rejected: [], checkpoint: null },
      {
        t: 'write',
        at: 3,
        clientId: 'B',
        changes: [{ m: 1, c: 'tasks', id: 't2', op: 'upsert', data: { title: 'b2' } }],
      },
      { t: 'committed', at: 3, ms: [1] },
      {
        t: 'settle',
        at: 4,
        removed: [1],
        rejected: [],
        docs: [{ c: 'tasks', id: 't2', v: ownPush ? V(3) : null }],
      },
      // The page of seq 1, read before B's push: t2 is older than what B holds, so the client keeps its own.
      {
        t: 'observe',
        at: 5,
        cp: CP(1),
        full: false,
        docs: [{ c: 'tasks', id: 't1', v: V(1), d: { title: 'a1' } }],
      },
      { t: 'observe', at: 6, cp: CP(2), full: false, docs: [] },
      final,
    ];
    const ledger = new Map([
      ['A#1', 'accepted'],
      ['A#2', 'accepted'],
      ['B#1', 'accepted'],
    ]);
    expect(kinds({ histories: [a, b(true)], oplog, ledger, full })).toEqual([]);
    expect(kinds({ histories: [a, b(false)], oplog, ledger, full })).toContain('partial-push');
  });

  it('finds a write applied twice (duplicated)', () => {
    const run = cleanRun();
    run.oplog.push(row(4, 0, 't1', 5, { title: 'a1' }, 'A', 1));
    expect(kinds(run)).toContain('duplicated');
  });

  it('finds what no client wrote (phantom, unknown value)', () => {
    const run = cleanRun();
    run.oplog.push(row(4, 0, 't9', 5, { title: 'zz' }, 'C', 1));
    run.oplog.push(row(5, 0, 't2', 6, { title: 'never-written' }, 'A', 2));
    expect(kinds(run)).toEqual(expect.arrayContaining(['phantom', 'unknown-value']));
  });

  it('finds a client that did not drain (wedged) or holds other documents (not converged)', () => {
    const run = cleanRun();
    const a = run.histories[0]!;
    a[a.length - 1] = {
      t: 'final',
      at: 9,
      pending: 2,
      checkpoint: CP(3),
      docs: run.full.slice(1),
      drainedMs: 90_000,
    };
    expect(kinds(run)).toEqual(expect.arrayContaining(['wedged', 'not-converged']));
    run.histories[1] = run.histories[1]!.filter((e) => e.t !== 'final');
    expect(checkRun(run).counts.wedged).toBe(2);
  });

  it('finds a checkpoint going back and a document returning to an older version (monotonic reads)', () => {
    const run = cleanRun();
    const b = run.histories[1]!;
    b.splice(b.length - 1, 0, {
      t: 'observe',
      at: 8,
      cp: CP(2),
      full: false,
      docs: [{ c: 'tasks', id: 't1', v: V(1), d: { title: 'a1' } }],
    });
    expect(kinds(run)).toEqual(expect.arrayContaining(['checkpoint-back', 'version-back']));
  });

  it('finds an older version shown after the client own write was acknowledged (read-your-writes)', () => {
    const run = cleanRun();
    const b = run.histories[1]!;
    // B is acknowledged at V(4), then a late page brings t1 at V(1) (B had not observed it before).
    const late = b.findIndex((e) => e.t === 'settle') + 1;
    b.splice(0, b.length, ...b.filter((e, i) => i !== 1));
    b.splice(late - 1, 0, {
      t: 'observe',
      at: 7,
      cp: CP(1),
      full: false,
      docs: [{ c: 'tasks', id: 't1', v: V(1), d: { title: 'a1' } }],
    });
    expect(kinds(run)).toContain('read-your-writes');
  });

  it('finds a push seen in part (whole pushes)', () => {
    const run = cleanRun();
    const b = run.histories[1]!;
    const i = b.findIndex((e) => e.t === 'observe' && e.cp === CP(2));
    b[i] = {
      t: 'observe',
      at: 6,
      cp: CP(2),
      full: false,
      docs: [{ c: 'tasks', id: 't2', v: V(2), d: { title: 'a2' } }],
    };
    expect(kinds(run)).toContain('partial-push');
  });

  it('finds a state the server never had, and a server version going back', () => {
    const run = cleanRun();
    run.histories[0]!.splice(8, 0, {
      t: 'observe',
      at: 6,
      cp: CP(2),
      full: false,
      docs: [{ c: 'tasks', id: 't2', v: V(2), d: { title: 'other' } }],
    });
    run.oplog.push(row(4, 0, 't3', 1, { title: 'a3' }, 'B', 2));
    expect(kinds(run)).toEqual(expect.arrayContaining(['phantom-state', 'server-version-back']));
  });

  it('takes a write as acknowledged when a restarted client no longer holds it, and as superseded when newer writes won', () => {
    const run = cleanRun();
    const a = run.histories[0]!;
    // A dies after storing m2+m3 and before recording their answer; on restart its outbox is empty.
    const settle = a.findIndex((e) => e.t === 'settle' && e.removed.includes(2));
    a[settle] = {
      t: 'start',
      at: 4,
      pid: 3,
      clientId: 'A',
      outbox: [],
      rejected: [],
      checkpoint: CP(1),
    };
    expect(checkRun(run).counts.ackedInferred).toBe(2);
    run.oplog = run.oplog.filter((r) => !(r.clientId === 'A' && r.m === 3));
    expect(kinds(run)).toContain('lost');
    run.ledger = new Map([...run.ledger, ['A#3', 'conflict_resolved']]);
    run.full = run.full.filter((d) => d.id !== 't3');
    for (const h of run.histories) {
      const f = h[h.length - 1]!;
      if (f.t === 'final') f.docs = f.docs.filter((d) => d.id !== 't3');
      for (const e of h) if (e.t === 'observe') e.docs = e.docs.filter((d) => d.id !== 't3');
    }
    const result = checkRun(run);
    expect(result.violations.map((v) => v.kind)).toEqual([]);
    expect(result.counts.superseded).toBe(1);
  });

  /**
   * B deletes t2 (newer HLC, seq 4); A's older delete of t2 arrives later: accepted, answered with
   * B's tombstone, no oplog entry. `answered`: the document A's settle records (none when A deleted
   * it from the device).
   */
  function lateDelete(answered: { c: string; id: string; v: string }[]) {
    const run = cleanRun();
    run.oplog.push(row(4, 0, 't2', 9, null, 'B', 2));
    run.ledger = new Map([...run.ledger, ['B#2', 'accepted'], ['A#4', 'accepted']]);
    run.full = run.full.filter((d) => d.id !== 't2');
    const [a, b] = run.histories as [HistoryEvent[], HistoryEvent[]];
    const del = (clientId: string, m: number, at: number, docs: typeof answered) => [
      {
        t: 'write' as const,
        at,
        clientId,
        changes: [{ m, c: 'tasks', id: 't2', op: 'delete' as const, data: null }],
      },
      { t: 'committed' as const, at, ms: [m] },
      { t: 'settle' as const, at: at + 1, removed: [m], rejected: [], docs },
    ];
    b.splice(b.length - 1, 0, ...del('B', 2, 8, [{ c: 'tasks', id: 't2', v: V(9) }]));
    a.splice(a.length - 1, 0, ...del('A', 4, 8, answered));
    for (const h of run.histories) {
      const f = h[h.length - 1]!;
      if (f.t === 'final') f.docs = f.docs.filter((d) => d.id !== 't2');
    }
    return { run, a };
  }

  it('takes an accepted delete of a document a newer tombstone already deleted as superseded, not lost', () => {
    const { run, a } = lateDelete([{ c: 'tasks', id: 't2', v: V(9) }]);
    const result = checkRun(run);
    expect(result.violations.map((v) => v.message)).toEqual([]);
    expect(result.counts.superseded).toBe(1);
    // Answered with a version that is no tombstone: lost.
    const settle = a[a.length - 2]!;
    if (settle.t === 'settle') settle.docs = [{ c: 'tasks', id: 't2', v: V(8) }];
    expect(kinds(run)).toContain('lost');
  });

  it("knows an absorbed delete from the server's ledger when the answered document left every view (the client deletes it, recording no version)", () => {
    const { run } = lateDelete([]);
    // Without the server's answered version it cannot be told from a lost delete.
    expect(kinds(run)).toContain('lost');
    run.ledgerVersions = new Map([['A#4', V(9)]]);
    const result = checkRun(run);
    expect(result.violations.map((v) => v.message)).toEqual([]);
    expect(result.counts.superseded).toBe(1);
    // The ledger answered a version that is no tombstone: lost.
    run.ledgerVersions = new Map([['A#4', V(8)]]);
    expect(kinds(run)).toContain('lost');
  });

  it('takes an accepted patch whose values newer writes had already set (no oplog entry of its own) as superseded, not lost', () => {
    const run = cleanRun();
    // A patches t1's title to what B's newer patch already set: the intent is met, nothing changes.
    run.ledger = new Map([...run.ledger, ['A#4', 'accepted']]);
    run.ledgerVersions = new Map([['A#4', V(4)]]);
    const [a] = run.histories as [HistoryEvent[]];
    a.splice(
      a.length - 1,
      0,
      {
        t: 'write',
        at: 8,
        clientId: 'A',
        changes: [{ m: 4, c: 'tasks', id: 't1', op: 'patch', data: { title: 'b1' } }],
      },
      { t: 'committed', at: 8, ms: [4] },
      { t: 'settle', at: 9, removed: [4], rejected: [], docs: [] },
    );
    const result = checkRun(run);
    expect(result.violations.map((v) => v.message)).toEqual([]);
    expect(result.counts.superseded).toBe(1);
    // Answered with a version whose state does not hold the patch: lost.
    run.ledgerVersions = new Map([['A#4', V(1)]]);
    expect(kinds(run)).toContain('lost');
    // Nor does a patch of another value.
    run.ledgerVersions = new Map([['A#4', V(4)]]);
    const write = a[a.length - 4]!;
    if (write.t === 'write') write.changes[0]!.data = { title: 'a9' };
    expect(kinds(run)).toContain('lost');
  });

  it('prints the seed and the events of a failure', () => {
    const run = cleanRun();
    run.oplog.push(row(4, 0, 't1', 5, { title: 'a1' }, 'A', 1));
    const text = describeFailure(42, checkRun(run));
    expect(text).toContain('seed=42');
    expect(text).toContain('duplicated');
    expect(text).toContain('"m":1');
    expect(checkpointSeq(CP(35))).toBe(35);
  });
});
