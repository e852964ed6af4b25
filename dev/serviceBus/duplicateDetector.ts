import { Deque } from './deque.js';

/**
 * Remembers message ids for a fixed window. Ids are recorded in time order and the window is the same
 * for all of them, so expired ids are always at the head of the FIFO: pruning is O(1) amortised.
 */
export class DuplicateDetector {
  private readonly seenAt = new Map<string, number>();
  private readonly order = new Deque<{ readonly key: string; readonly at: number }>();

  constructor(private readonly windowMs: number) {}

  /** True when `key` was recorded within the window; otherwise records it and returns false. */
  isDuplicate(key: string, now: number): boolean {
    this.prune(now);
    if (this.seenAt.has(key)) return true;
    this.seenAt.set(key, now);
    this.order.push({ key, at: now });
    return false;
  }

  get size(): number {
    return this.seenAt.size;
  }

  private prune(now: number): void {
    for (let head = this.order.peek(); head !== undefined && head.at + this.windowMs <= now; head = this.order.peek()) {
      this.order.shift();
      // A key is only in the FIFO once while it is in the map, so the times always match.
      if (this.seenAt.get(head.key) === head.at) this.seenAt.delete(head.key);
    }
  }
}
