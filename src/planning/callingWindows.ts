import type { LocalTimeRange, WeeklyHours } from '../engagement/engagementSchema.js';
import { dailyRangesToSpans, weeklyHoursToSpans } from './localSchedule.js';
import { intersectSpans, normalizeSpans, subtractSpans, type Span } from './timeIntervals.js';

/** Windows shorter than this are dropped: too short to ring, talk and hand off. */
export const MIN_WINDOW_MS = 5 * 60_000;
/** Requested windows default to the next 24 hours, as in Dynamics 365. */
export const DEFAULT_WINDOW_MS = 24 * 3_600_000;

export interface WindowRules {
  /** Contact-local hours when calling is lawful. */
  readonly legalHours: LocalTimeRange;
  /** Contact-local quiet hours for the phone type being planned. */
  readonly quietHours: readonly LocalTimeRange[];
  /** The queue's operating hours, or undefined when the engagement may call outside them. */
  readonly queueHours: WeeklyHours | undefined;
}

/**
 * Expanding local schedules into instants is the costly part of planning; contacts share zones, so one
 * planning run memoises the expansions by zone and range.
 */
export class ScheduleCache {
  private readonly cache = new Map<string, Span[]>();
  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  daily(ranges: readonly LocalTimeRange[], zone: string): Span[] {
    const key = `d|${zone}|${ranges.map((r) => `${r.start}-${r.end}`).join(',')}`;
    let spans = this.cache.get(key);
    if (spans === undefined) {
      spans = dailyRangesToSpans(ranges, zone, this.from, this.to);
      this.cache.set(key, spans);
    }
    return spans;
  }

  weekly(hours: WeeklyHours): Span[] {
    const key = `w|${JSON.stringify(hours)}`;
    let spans = this.cache.get(key);
    if (spans === undefined) {
      spans = weeklyHoursToSpans(hours, this.from, this.to);
      this.cache.set(key, spans);
    }
    return spans;
  }
}

/**
 * Calling windows for one phone of one contact: the requested windows intersected with the contact's
 * legal hours and the queue's operating hours, minus the phone type's quiet hours, from `now` on.
 * All local rules are applied in the contact's own zone, so DST changes and half-hour offsets fall out
 * of the zone rules rather than fixed offsets.
 */
export function computeCallingWindows(requested: readonly Span[], zone: string, rules: WindowRules, now: number, cache: ScheduleCache): Span[] {
  let spans = intersectSpans(normalizeSpans(requested), [{ start: now, end: Number.MAX_SAFE_INTEGER }]);
  if (spans.length === 0) return spans;
  spans = intersectSpans(spans, cache.daily([rules.legalHours], zone));
  if (rules.queueHours !== undefined) spans = intersectSpans(spans, cache.weekly(rules.queueHours));
  if (rules.quietHours.length > 0) spans = subtractSpans(spans, cache.daily(rules.quietHours, zone));
  return spans.filter((s) => s.end - s.start >= MIN_WINDOW_MS);
}

/**
 * Which rule left a phone without a calling window, when {@link computeCallingWindows} found none:
 * the rules are applied in the same order and the first one after which nothing of at least
 * MIN_WINDOW_MS is left is named. `requested-window` means the requested windows were already over
 * (or too short) before any rule applied.
 */
export type NoWindowCause = 'requested-window' | 'legal-hours' | 'queue-hours' | 'quiet-hours';

/** The order the causes are checked in; a later cause means the phone got further through the rules. */
export const NO_WINDOW_CAUSES: readonly NoWindowCause[] = ['requested-window', 'legal-hours', 'queue-hours', 'quiet-hours'];

export function explainNoWindow(requested: readonly Span[], zone: string, rules: WindowRules, now: number, cache: ScheduleCache): NoWindowCause {
  const longEnough = (spans: Span[]) => spans.some((s) => s.end - s.start >= MIN_WINDOW_MS);
  let spans = intersectSpans(normalizeSpans(requested), [{ start: now, end: Number.MAX_SAFE_INTEGER }]);
  if (!longEnough(spans)) return 'requested-window';
  spans = intersectSpans(spans, cache.daily([rules.legalHours], zone));
  if (!longEnough(spans)) return 'legal-hours';
  if (rules.queueHours !== undefined) {
    spans = intersectSpans(spans, cache.weekly(rules.queueHours));
    if (!longEnough(spans)) return 'queue-hours';
  }
  return 'quiet-hours';
}
