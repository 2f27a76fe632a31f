/** The inspector (`/#inspector`): the client's diagnostics, refreshed live — status and reason, outbox, checkpoint and lag, last push and pull, live connection, tab role, dead letters, storage, recent errors. */
import { useEffect, useState } from 'react';
import { useSyncClient } from 'trpc-offline-sync/react';
import type { TasksClient } from './connect.js';
import { readDiagnostics, type InspectorSnapshot } from './diagnostics.js';
import { usePwa } from './pwa.js';

const ago = (ms: number | null | undefined) =>
  ms === null || ms === undefined
    ? '—'
    : ms < 1_000
      ? `${ms} ms`
      : ms < 120_000
        ? `${Math.round(ms / 1_000)} s`
        : `${Math.round(ms / 60_000)} min`;
const when = (iso: string | null | undefined) =>
  iso ? `${new Date(iso).toLocaleTimeString()} (${ago(Date.now() - Date.parse(iso))} ago)` : '—';

function Row({ name, value, id }: { name: string; value: string; id?: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd {...(id ? { 'data-testid': id } : {})}>{value}</dd>
    </>
  );
}

export function Inspector({ onClose }: { onClose: () => void }) {
  const client = useSyncClient() as TasksClient;
  const pwa = usePwa();
  const [d, setD] = useState<InspectorSnapshot | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    const read = () =>
      readDiagnostics(client).then(
        (next) => !stopped && (setD(next), setFailure(null)),
        (e: Error) => !stopped && setFailure(e.message),
      );
    void read();
    const timer = setInterval(read, 1_000);
    const offs = (['status', 'change', 'synced', 'error'] as const).map((e) =>
      client.on(e, () => void read()),
    );
    return () => {
      stopped = true;
      clearInterval(timer);
      offs.forEach((off) => off());
    };
  }, [client]);
  const step = (s: InspectorSnapshot['lastPush']) =>
    s
      ? `${s.ok ? 'ok' : `failed: ${s.error?.code} ${s.error?.message ?? ''}`}${s.count !== undefined ? `, ${s.count}` : ''} · ${when(s.at)} · ${s.durationMs} ms`
      : '—';
  return (
    <section className="inspector" data-testid="inspector" aria-label="Sync inspector">
      <header>
        <h2>Inspector</h2>
        <button onClick={onClose} aria-label="close inspector">
          Close
        </button>
      </header>
      {failure ? <p className="error">diagnostics failed: {failure}</p> : null}
      {d ? (
        <dl>
          <Row
            name="status"
            value={`${d.status}${d.reason ? ` — ${d.reason.code}: ${d.reason.message} (since ${when(d.reason.since)})` : ''}`}
            id="inspector-status"
          />
          <Row
            name="outbox"
            value={`${d.outbox.size} pending${d.outbox.size ? `, oldest ${ago(d.outbox.oldestAgeMs)} old` : ''}`}
            id="inspector-outbox"
          />
          <Row name="dead letters" value={String(d.deadLetters ?? '—')} id="inspector-dead" />
          <Row name="checkpoint" value={d.checkpoint ?? '—'} id="inspector-checkpoint" />
          <Row
            name="lag"
            value={
              d.lag
                ? `${d.lag.changes ?? '?'} changes, ${d.lag.seconds === null ? '?' : `${d.lag.seconds} s`} (head seen ${when(d.lag.headSeenAt)})`
                : '—'
            }
          />
          <Row name="last push" value={step(d.lastPush ?? null)} />
          <Row name="last pull" value={step(d.lastPull ?? null)} />
          <Row
            name="live"
            value={
              d.live
                ? `${d.live.active ? 'on' : 'off'}, ${d.live.connection}${d.live.connectionError ? ` (${d.live.connectionError})` : ''}, last event ${when(d.live.lastEventAt)}, ${d.live.pings} pings`
                : '—'
            }
          />
          <Row
            name="network"
            value={
              d.reachability
                ? `platform ${d.reachability.platformOnline ? 'online' : 'offline'}, server ${d.reachability.server}`
                : '—'
            }
          />
          <Row
            name="tab"
            value={
              d.tab
                ? `${d.tab.role}${d.tab.role === 'follower' ? (d.tab.answered ? ' (the leader tab answered)' : ' (leader did not answer: own view)') : ''}`
                : '—'
            }
          />
          <Row name="client id" value={d.clientId ?? '—'} />
          <Row
            name="app shell"
            value={`${pwa.offlineReady ? 'cached for offline starts' : 'not cached yet'}${pwa.updateAvailable ? ', update waiting' : ''}`}
          />
          <Row
            name="storage"
            value={
              pwa.persisted === null
                ? 'persistence not supported'
                : pwa.persisted
                  ? 'persistent (not evicted under pressure)'
                  : 'best-effort (may be evicted)'
            }
          />
          <Row name="snapshot" value={when(d.at)} />
        </dl>
      ) : (
        <p>reading…</p>
      )}
      {d?.errors?.length ? (
        <>
          <h3>Recent errors</h3>
          <ol className="errors" data-testid="inspector-errors">
            {[...d.errors].reverse().map((e, i) => (
              <li key={i}>
                {new Date(e.at).toLocaleTimeString()} {e.where}: {e.code} {e.message}
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </section>
  );
}
