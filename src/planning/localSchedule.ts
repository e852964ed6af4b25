import { DateTime } from 'luxon';
import { WEEKDAYS, type LocalTimeRange, type WeeklyHours } from '../engagement/engagementSchema.js';
import { normalizeSpans, type Span } from './timeIntervals.js';

const DAY_MS = 86_400_000;

function parseTime(hhmm: string): { hour: number; minute: number } {
  return { hour: Number(hhmm.slice(0, 2)), minute: Number(hhmm.slice(3, 5)) };
}

/**
 * The instant a local wall-clock time happens on a local date. `24:00` is the next day's midnight.
 * A time skipped by a DST change (02:30 on a spring-forward night) resolves to the instant the clock
 * jumps to, as luxon does: the range simply starts when that local time first exists.
 */
function instantAt(day: DateTime, hhmm: string): number {
  const { hour, minute } = parseTime(hhmm);
  if (hour === 24) return day.plus({ days: 1 }).startOf('day').toMillis();
  return day.set({ hour, minute, second: 0, millisecond: 0 }).toMillis();
}

/**
 * Expands daily local-time ranges into absolute spans covering [from, to]. Ranges whose end is before
 * their start cross midnight and end on the next local day.
 */
export function dailyRangesToSpans(ranges: readonly LocalTimeRange[], zone: string, from: number, to: number): Span[] {
  const spans: Span[] = [];
  if (ranges.length === 0) return spans;
  // Start a day early so a range that began yesterday and crosses midnight is included.
  let day = DateTime.fromMillis(from - DAY_MS, { zone }).startOf('day');
  while (day.toMillis() <= to) {
    for (const range of ranges) {
      const start = instantAt(day, range.start);
      const crosses = range.end !== '24:00' && range.end < range.start;
      const end = instantAt(crosses ? day.plus({ days: 1 }) : day, range.end);
      if (end > start) spans.push({ start, end });
    }
    day = day.plus({ days: 1 }).startOf('day');
  }
  return normalizeSpans(spans);
}

/** Expands a queue's weekly hours (in the queue's own zone) into absolute spans covering [from, to]. */
export function weeklyHoursToSpans(hours: WeeklyHours, from: number, to: number): Span[] {
  const spans: Span[] = [];
  let day = DateTime.fromMillis(from - DAY_MS, { zone: hours.timeZone }).startOf('day');
  while (day.toMillis() <= to) {
    const weekday = WEEKDAYS[day.weekday - 1];
    const ranges = weekday === undefined ? undefined : hours.days[weekday];
    for (const range of ranges ?? []) {
      spans.push({ start: instantAt(day, range.start), end: instantAt(day, range.end) });
    }
    day = day.plus({ days: 1 }).startOf('day');
  }
  return normalizeSpans(spans);
}
