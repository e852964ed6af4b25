import type { SimClock, TimerId } from './simClock.js';

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * Discrete-event time: callbacks run in (time, scheduling order) order when the owner advances the
 * clock, and `now()` jumps to each callback's time. A day of calls runs in well under a second.
 */
export class VirtualClock implements SimClock {
  private current: number;
  private seq = 0;
  private heap: Entry[] = [];
  /** Scheduled and neither run nor cancelled. */
  private live = new Set<number>();

  constructor(start: Date | number) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, fn: () => void): TimerId {
    const id = ++this.seq;
    this.live.add(id);
    this.push({ at: Math.max(at, this.current), seq: id, fn });
    return id;
  }

  cancel(id: TimerId): void {
    this.live.delete(id);
  }

  /** When the next callback still to run is due, or undefined when none is scheduled. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const entry of this.heap) if (this.live.has(entry.seq) && (next === undefined || entry.at < next)) next = entry.at;
    return next;
  }

  /** Callbacks still to run. */
  get pending(): number {
    return this.live.size;
  }

  /** Runs every callback due up to `time` (inclusive), then leaves the clock at `time`. */
  advanceTo(time: number): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > time) break;
      this.pop();
      if (!this.live.delete(top.seq)) continue;
      this.current = top.at;
      top.fn();
    }
    this.current = Math.max(this.current, time);
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p === undefined || !before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      let candidate: Entry = last;
      const l = heap[left];
      if (l !== undefined && before(l, candidate)) {
        smallest = left;
        candidate = l;
      }
      const r = heap[right];
      if (r !== undefined && before(r, candidate)) {
        smallest = right;
        candidate = r;
      }
      if (smallest === i) break;
      heap[i] = candidate;
      i = smallest;
    }
    heap[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
