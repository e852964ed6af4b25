/**
 * Groups a sequence (an array, or a stream pulled as it goes) into arrays of `size` items, in order.
 * Only the slice being filled is held, so the reader of a streamed source stays one slice ahead at most.
 */
export async function* slicesOf<T>(items: Iterable<T> | AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`slice size must be a positive integer, got ${size}`);
  let slice: T[] = [];
  for await (const item of items) {
    slice.push(item);
    if (slice.length === size) {
      yield slice;
      slice = [];
    }
  }
  if (slice.length > 0) yield slice;
}
