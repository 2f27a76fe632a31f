/** A minimal SSE reader over fetch for tests: yields parsed events (id, event, data) until aborted or closed. */

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Opens `url` as an event stream and returns the response plus an async iterator of events. */
export async function openSse(url: string, headers: Record<string, string>, signal: AbortSignal) {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal });
  async function* events(): AsyncGenerator<SseEvent> {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: 'message', data: undefined };
          let data = '';
          let hasData = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || line === '') continue;
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') {
              data += (hasData ? '\n' : '') + value;
              hasData = true;
            }
          }
          if (!hasData) continue;
          event.data = JSON.parse(data);
          yield event;
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
  return { res, events: events() };
}

/** Reads events until `until` returns true or `timeoutMs` passes. */
export async function collect(
  iter: AsyncIterator<SseEvent>,
  until: (all: SseEvent[]) => boolean,
  timeoutMs = 10_000,
): Promise<SseEvent[]> {
  const all: SseEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(all)) {
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(`timed out after ${all.length} events: ${JSON.stringify(all).slice(0, 500)}`);
    const next = await Promise.race([
      iter.next(),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left)),
    ]);
    if (next === 'timeout') continue;
    if (next.done) break;
    all.push(next.value);
  }
  return all;
}
