/**
 * The app's views: "All" (every task of the tenant) and "Mine" (the tasks assigned to the signed-in
 * user), each a server-declared rule the client subscribes to (`client.subscribe('all' | 'mine')`).
 * Nothing picked: the list shows what the default request brings (every task, as before views).
 */
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { Subscription } from '../../client/index.js';
import { useSubscription } from '../../react/index.js';

/** The rules the demo server declares (server/demo/rules.ts). */
export type ViewName = 'all' | 'mine';

const VIEW_KEY = 'trpc-offline-sync:view';

/** The view picked on this device (kept across reloads), `null` when none was picked. */
function storedView(): ViewName | null {
  const v = localStorage.getItem(VIEW_KEY);
  return v === 'all' || v === 'mine' ? v : null;
}

interface Chosen {
  view: ViewName | null;
  choose(view: ViewName): void;
}

const ChosenView = createContext<Chosen>({ view: null, choose: () => undefined });

/** Holds the picked view for the page. */
export function ViewProvider({ children }: { children: ReactNode }) {
  const [view, setView] = useState(storedView);
  const choose = (next: ViewName) => {
    localStorage.setItem(VIEW_KEY, next);
    setView(next);
  };
  return <ChosenView.Provider value={{ view, choose }}>{children}</ChosenView.Provider>;
}

/** The picked view and how to pick another. */
export const useChosenView = (): Chosen => useContext(ChosenView);

/** "All | Mine" buttons; the pressed one is the view the list shows. */
export function ViewSwitch({ me }: { me: string | null }) {
  const { view, choose } = useChosenView();
  const shown = view ?? 'all';
  return (
    <div className="views" role="group" aria-label="view">
      {(['all', 'mine'] as const).map((name) => (
        <button
          key={name}
          type="button"
          data-testid={`view-${name}`}
          aria-pressed={shown === name}
          onClick={() => choose(name)}
          title={name === 'mine' ? `Tasks assigned to ${me ?? 'you'}` : 'Every task of the tenant'}
        >
          {name === 'all' ? 'All' : 'Mine'}
        </button>
      ))}
    </div>
  );
}

/**
 * Renders `children` with the subscription of the picked view (`null` when none is picked, so
 * the list reads whatever the device holds). Subscriptions stay when the user switches (they are
 * kept across restarts), so going back is instant.
 */
export function WithView({
  children,
}: {
  children: (view: Subscription | null, state: string) => ReactNode;
}) {
  const { view } = useChosenView();
  if (view === null) return <>{children(null, 'default')}</>;
  return (
    <Subscribed key={view} rule={view}>
      {children}
    </Subscribed>
  );
}

function Subscribed({
  rule,
  children,
}: {
  rule: ViewName;
  children: (view: Subscription, state: string) => ReactNode;
}) {
  const { subscription, status } = useSubscription(rule);
  useEffect(() => void subscription.ready.catch(() => undefined), [subscription]);
  return <>{children(subscription, status)}</>;
}
