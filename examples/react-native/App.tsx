/** The sample app: opens the sync client once, then renders the task screen inside `SyncProvider`. */
import { useEffect, useState } from 'react';
import { Text } from 'react-native';
import { SyncProvider } from 'trpc-offline-sync/react';
import { openSync, type AppSyncClient } from './src/sync';
import { TaskList } from './src/TaskList';

/** Replace with the app's sign-in: answers the bearer token (a new one when `refresh`). */
async function fetchToken(refresh: boolean): Promise<string> {
  const res = await fetch('https://auth.example.com/token' + (refresh ? '?refresh=1' : ''));
  return ((await res.json()) as { token: string }).token;
}

export default function App() {
  const [client, setClient] = useState<AppSyncClient | null>(null);
  useEffect(() => {
    let open: AppSyncClient | null = null;
    void openSync(fetchToken).then((c) => setClient((open = c)));
    return () => void open?.close();
  }, []);
  if (!client) return <Text>Opening the local store…</Text>;
  return (
    <SyncProvider client={client}>
      <TaskList client={client} />
    </SyncProvider>
  );
}
