/** A scripted clock for the client's status machinery (`Timers`): time moves only when the test says, timers fire in order. */
import type { Timers } from '../../client/timers.js';

export class FakeTimers implements Timers {
  private time: number;
  private nextId = 1;
  private readonly queue = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  set(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.queue.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clear(handle: unknown): void {
    this.queue.delete(handle as number);
  }

  /** Timers still pending. */
  get pending(): number {
    return this.queue.size;
  }

  /** When the next timer is due (ms from now), or null. */
  get nextIn(): number | null {
    let next: number | null = null;
    for (const t of this.queue.values()) if (next === null || t.at < next) next = t.at;
    return next === null ? null : next - this.time;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order (a timer set by a timer fires too if due). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | null = null;
      for (const entry of this.queue)
        if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.queue.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = end;
  }
}
