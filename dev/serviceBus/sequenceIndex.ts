/**
 * Messages of one entity in sequence-number order, for peek. Sequence numbers are assigned in
 * increasing order and appended here at that moment, so the array stays sorted and a peek starts with
 * a binary search. Removal is lazy (the caller marks the message removed); the array is compacted once
 * removed entries outnumber live ones, so the cost is amortised O(1) per message.
 */
export interface Sequenced {
  readonly sequenceNumber: number;
  readonly removed: boolean;
}

const MIN_COMPACTION = 1024;

export class SequenceIndex<T extends Sequenced> {
  private items: T[] = [];
  private removedCount = 0;

  append(item: T): void {
    const last = this.items[this.items.length - 1];
    if (last !== undefined && last.sequenceNumber >= item.sequenceNumber) {
      throw new Error(`sequence numbers must increase: ${item.sequenceNumber} after ${last.sequenceNumber}`);
    }
    this.items.push(item);
  }

  /** Call after marking an item removed. */
  noteRemoved(): void {
    this.removedCount++;
    if (this.removedCount >= MIN_COMPACTION && this.removedCount * 2 > this.items.length) {
      this.items = this.items.filter((item) => !item.removed);
      this.removedCount = 0;
    }
  }

  /** Up to `count` live items with sequence number >= `from`, in order; `accept` can skip more. */
  from(from: number, count: number, accept: (item: T) => boolean = () => true): T[] {
    // A snapshot: `accept` may remove items, and a compaction then swaps in a new array.
    const items = this.items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const item = items[mid];
      if (item !== undefined && item.sequenceNumber < from) lo = mid + 1;
      else hi = mid;
    }
    const out: T[] = [];
    for (let i = lo; i < items.length && out.length < count; i++) {
      const item = items[i];
      if (item !== undefined && !item.removed && accept(item)) out.push(item);
    }
    return out;
  }

  clear(): void {
    this.items = [];
    this.removedCount = 0;
  }
}
