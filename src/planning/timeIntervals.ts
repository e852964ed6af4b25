/**
 * Half-open time intervals [start, end) in epoch milliseconds, kept as sorted, disjoint lists. Planning
 * intersects and subtracts hundreds of thousands of these per request, so they are plain numbers rather
 * than luxon Intervals.
 */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Sorts and merges overlapping or touching spans; drops empty ones. */
export function normalizeSpans(spans: readonly Span[]): Span[] {
  const sorted = spans.filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && span.start <= last.end) {
      if (span.end > last.end) out[out.length - 1] = { start: last.start, end: span.end };
    } else {
      out.push(span);
    }
  }
  return out;
}

/** Intersection of two normalised lists. */
export function intersectSpans(a: readonly Span[], b: readonly Span[]): Span[] {
  const out: Span[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as Span;
    const y = b[j] as Span;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (end > start) out.push({ start, end });
    if (x.end < y.end) i++;
    else j++;
  }
  return out;
}

/** `a` minus `b`, both normalised. */
export function subtractSpans(a: readonly Span[], b: readonly Span[]): Span[] {
  const out: Span[] = [];
  let j = 0;
  for (const span of a) {
    let start = span.start;
    while (j < b.length && (b[j] as Span).end <= start) j++;
    let k = j;
    while (k < b.length && (b[k] as Span).start < span.end) {
      const cut = b[k] as Span;
      if (cut.start > start) out.push({ start, end: cut.start });
      start = Math.max(start, cut.end);
      k++;
    }
    if (start < span.end) out.push({ start, end: span.end });
  }
  return out;
}
