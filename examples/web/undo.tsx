/** Delete with undo: the task disappears at once and a toast offers Undo for a few seconds; the delete is written when the toast closes (or the page is hidden), so an undone delete never reaches the server. */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { useSyncClient } from 'trpc-offline-sync/react';
import type { TasksClient } from './connect.js';

/** How long Undo is offered (ms). */
export const UNDO_MS = 5_000;

interface PendingDelete {
  id: string;
  title: string;
  timer: ReturnType<typeof setTimeout>;
}

interface UndoApi {
  /** Ids hidden from the list while their delete can still be undone. */
  hidden: ReadonlySet<string>;
  remove(id: string, title: string): void;
}

const UndoContext = createContext<UndoApi>({ hidden: new Set(), remove: () => undefined });

export const useUndo = (): UndoApi => useContext(UndoContext);

export function UndoProvider({ children }: { children: ReactNode }) {
  const tasks = (useSyncClient() as TasksClient).collection('tasks');
  const [pending, setPending] = useState<PendingDelete[]>([]);
  const ref = useRef(pending);
  ref.current = pending;

  const commit = useCallback(
    (id: string) => {
      const p = ref.current.find((x) => x.id === id);
      if (!p) return;
      clearTimeout(p.timer);
      setPending((list) => list.filter((x) => x.id !== id));
      void tasks.delete(id);
    },
    [tasks],
  );
  const remove = useCallback(
    (id: string, title: string) => {
      // One toast at a time: an earlier delete is written now.
      for (const p of ref.current) commit(p.id);
      const timer = setTimeout(() => commit(id), UNDO_MS);
      setPending((list) => [...list.filter((x) => x.id !== id), { id, title, timer }]);
    },
    [commit],
  );
  const undo = (id: string) => {
    const p = ref.current.find((x) => x.id === id);
    if (p) clearTimeout(p.timer);
    setPending((list) => list.filter((x) => x.id !== id));
  };
  useEffect(() => {
    // Closing or hiding the page writes the deletes still waiting (the local write is enough: it syncs later).
    const flush = () => ref.current.forEach((p) => commit(p.id));
    const onHidden = () => document.visibilityState === 'hidden' && flush();
    document.addEventListener('visibilitychange', onHidden);
    window.addEventListener('pagehide', flush);
    return () => (
      document.removeEventListener('visibilitychange', onHidden),
      window.removeEventListener('pagehide', flush)
    );
  }, [commit]);

  const hidden = new Set(pending.map((p) => p.id));
  return (
    <UndoContext.Provider value={{ hidden, remove }}>
      {children}
      {pending.map((p) => (
        <div className="toast" role="status" data-testid="undo-toast" key={p.id}>
          <span>Deleted '{p.title}'</span>
          <button onClick={() => undo(p.id)}>Undo</button>
        </div>
      ))}
    </UndoContext.Provider>
  );
}
