/**
 * Serialize-once caches for stream events. The engine hands every unfiltered live subscriber of a
 * scope the same `changes` event object for a commit, so a face serializing by identity does the
 * JSON (and UTF-8 encoding) work once per commit instead of once per subscriber. Entries live as
 * long as the event object does (WeakMap).
 */
import type { StreamEvent } from '../../shared/protocol.js';

type FrameEvent = StreamEvent | { type: 'error'; error: unknown };

/**
 * Returns `make(event)` for an event, computed once per event object. Only `changes` events are
 * cached: they are the ones shared between subscribers; heartbeats and the rest are per subscriber.
 */
export function frameCache<T>(make: (event: FrameEvent) => T): (event: FrameEvent) => T {
  const cache = new WeakMap<object, T>();
  return (event) => {
    if (event.type !== 'changes') return make(event);
    let frame = cache.get(event);
    if (frame === undefined) {
      frame = make(event);
      cache.set(event, frame);
    }
    return frame;
  };
}
