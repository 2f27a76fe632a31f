/** `SyncApi`: the shape of the app's typed tRPC proxy for the sync router, typed structurally (no tRPC server types). */
import type { FullInput, FullPage, PullInput, PullResponse, PushInput, PushResponse, StreamEvent, StreamInput } from '../shared/protocol.js';

/** A subscription handle (tRPC's `Unsubscribable`). */
export interface SyncUnsubscribable {
  unsubscribe(): void;
}

/** The callbacks the client passes to `stream.subscribe` (a subset of tRPC's observer). */
export interface StreamObserver {
  onStarted?(opts: { context: Record<string, unknown> | undefined }): void;
  /** Every stream event is `tracked()` by the server, so tRPC hands it over as `{ id, data }`. */
  onData?(value: { id: string; data: StreamEvent }): void;
  onError?(error: unknown): void;
  onComplete?(): void;
}

/**
 * What the client needs from the sync router: pass `trpc.sync` of the app's `createTRPCClient`
 * proxy. Methods are declared as methods (checked bivariantly), so the typed proxy of any schema fits.
 *
 * @example
 * const trpc = createTRPCClient<AppRouter>({ links: [...] });
 * const api: SyncApi = trpc.sync;
 */
export interface SyncApi {
  push: { mutate(input: PushInput): Promise<PushResponse> };
  pull: { query(input: PullInput): Promise<PullResponse> };
  full: { query(input: FullInput): Promise<FullPage> };
  stream: { subscribe(input: StreamInput, observer: StreamObserver): SyncUnsubscribable };
}
