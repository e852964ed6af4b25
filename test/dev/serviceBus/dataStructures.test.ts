import { describe, expect, it } from 'vitest';
import { Deque } from '../../../dev/serviceBus/deque.js';
import { DuplicateDetector } from '../../../dev/serviceBus/duplicateDetector.js';
import { swapGuidByteOrder, uuidFromBytes, uuidToBytes } from '../../../dev/serviceBus/lockToken.js';
import { MinHeap } from '../../../dev/serviceBus/minHeap.js';
import { SequenceIndex } from '../../../dev/serviceBus/sequenceIndex.js';

describe('broker data structures', () => {
  it('Deque keeps FIFO order across growth and wrap-around', () => {
    const deque = new Deque<number>();
    const expected: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      deque.push(i);
      expected.push(i);
      if (i % 3 === 0) expect(deque.shift()).toBe(expected.shift());
    }
    expect(deque.length).toBe(expected.length);
    expect([...deque]).toEqual(expected);
    while (deque.length > 0) expect(deque.shift()).toBe(expected.shift());
    expect(deque.shift()).toBeUndefined();
  });

  it('MinHeap pops in order and retain drops entries', () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 503);
    for (const value of values) heap.push(value);
    heap.retain((value) => value % 2 === 0);
    const popped: number[] = [];
    for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value);
    expect(popped).toEqual(values.filter((v) => v % 2 === 0).sort((a, b) => a - b));
  });

  it('DuplicateDetector forgets ids once the window has passed', () => {
    const detector = new DuplicateDetector(1_000);
    expect(detector.isDuplicate('a', 0)).toBe(false);
    expect(detector.isDuplicate('a', 999)).toBe(true);
    expect(detector.isDuplicate('b', 500)).toBe(false);
    expect(detector.isDuplicate('a', 1_000)).toBe(false);
    expect(detector.isDuplicate('b', 1_400)).toBe(true);
    expect(detector.size).toBe(2);
  });

  it('SequenceIndex finds live items from a sequence number and compacts removed ones', () => {
    const index = new SequenceIndex<{ sequenceNumber: number; removed: boolean }>();
    const items = Array.from({ length: 3_000 }, (_, i) => ({ sequenceNumber: i + 1, removed: false }));
    for (const item of items) index.append(item);
    for (const item of items.slice(0, 2_000)) {
      item.removed = true;
      index.noteRemoved();
    }
    expect(index.from(1, 3).map((i) => i.sequenceNumber)).toEqual([2_001, 2_002, 2_003]);
    expect(index.from(2_999, 10).map((i) => i.sequenceNumber)).toEqual([2_999, 3_000]);
    expect(() => index.append({ sequenceNumber: 5, removed: false })).toThrow(/must increase/);
  });

  it('swaps GUID byte order the way the SDK prints lock tokens, and back', () => {
    const uuid = '00112233-4455-6677-8899-aabbccddeeff';
    const swapped = swapGuidByteOrder(uuidToBytes(uuid));
    expect(uuidFromBytes(swapped)).toBe('33221100-5544-7766-8899-aabbccddeeff');
    expect(uuidFromBytes(swapGuidByteOrder(swapped))).toBe(uuid);
  });
});
