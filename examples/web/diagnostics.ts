/** The inspector's one door into the client: `client.diagnostics()` when the client has it, else a smaller snapshot built from `status()` and `pending()`. */
import type { SyncDiagnostics } from 'trpc-offline-sync/client';
import type { TasksClient } from './connect.js';

/** What the inspector shows; the fields the fallback cannot know are `null`. */
export type InspectorSnapshot = Pick<SyncDiagnostics, 'at' | 'status' | 'reason' | 'outbox'> &
  Partial<Omit<SyncDiagnostics, 'at' | 'status' | 'reason' | 'outbox'>>;

export async function readDiagnostics(client: TasksClient): Promise<InspectorSnapshot> {
  const withDiagnostics = client as TasksClient & { diagnostics?: () => Promise<SyncDiagnostics> };
  if (typeof withDiagnostics.diagnostics === 'function') return withDiagnostics.diagnostics();
  const size = await client.pending();
  return {
    at: new Date().toISOString(),
    status: client.status(),
    reason: null,
    outbox: { size, oldestAt: null, oldestAgeMs: null },
  };
}
