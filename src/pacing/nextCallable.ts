import type { CallWindow } from '../contacts/plannedContact.js';

/** A stretch of time in which a delivery can be called, epoch ms, start inclusive, end exclusive. */
export interface CallableSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * The first span at or after `from` in which one of the windows is open: windows that touch or
 * overlap are joined, so the span runs to the end of the contact's continuous callable time.
 * Undefined when every window has ended: the delivery has no time left and must end (`Expired`).
 */
export function nextCallable(windows: readonly CallWindow[], from: number): CallableSpan | undefined {
  const spans = windows
    .map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end) }))
    .filter((s) => s.end > from && s.end > s.start)
    .sort((a, b) => a.start - b.start);
  let found: { start: number; end: number } | undefined;
  for (const s of spans) {
    if (found === undefined) found = { start: Math.max(s.start, from), end: s.end };
    else if (s.start <= found.end) found.end = Math.max(found.end, s.end);
    else break;
  }
  return found;
}

/** The end of the last window: the latest moment a delivery can still be called. */
export function lastWindowEnd(windows: readonly CallWindow[]): number {
  return Math.max(0, ...windows.map((w) => Date.parse(w.end)));
}

/**
 * The longest plausible call, from hand-over to outcome: ringing, the agent leg, waiting, talk and
 * wrap-up. A call handed over this long ago without an outcome is asked about, then ended.
 */
export const LONGEST_CALL_MS = 60 * 60_000;

/**
 * Every delivery is terminal by its last window end plus this grace: a call placed at the last moment
 * may run the longest call, and the sweep that ends it runs on the next ticks.
 */
export const DELIVERY_GRACE_MS = 2 * LONGEST_CALL_MS;
