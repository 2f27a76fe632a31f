/** The task screen: a live query, add / toggle / delete, sync status and pending count. */
import { useState } from 'react';
import { Button, FlatList, Pressable, Text, TextInput, View } from 'react-native';
import { usePending, useQuery, useSyncStatus } from 'trpc-offline-sync/react';
import type { AppSyncClient } from './sync';

export function TaskList({ client }: { client: AppSyncClient }) {
  const tasks = client.collection('tasks');
  const rows = useQuery(tasks, undefined, { orderBy: 'title' });
  const status = useSyncStatus();
  const pending = usePending();
  const [title, setTitle] = useState('');
  return (
    <View style={{ flex: 1, padding: 16 }}>
      <Text accessibilityRole="header">
        {status} · {pending} pending
      </Text>
      <View style={{ flexDirection: 'row' }}>
        <TextInput
          style={{ flex: 1 }}
          value={title}
          onChangeText={setTitle}
          placeholder="New task"
        />
        <Button
          title="Add"
          onPress={() =>
            title && void tasks.put(`t-${Date.now()}`, { title }).then(() => setTitle(''))
          }
        />
      </View>
      <FlatList
        data={rows}
        keyExtractor={(row) => row.id}
        renderItem={({ item }) => (
          <Pressable
            onPress={() => void tasks.patch(item.id, { done: !item.doc.done })}
            onLongPress={() => void tasks.delete(item.id)}
          >
            <Text style={{ textDecorationLine: item.doc.done ? 'line-through' : 'none' }}>
              {item.doc.title}
              {item.pending ? ' ·' : ''}
            </Text>
          </Pressable>
        )}
      />
    </View>
  );
}
