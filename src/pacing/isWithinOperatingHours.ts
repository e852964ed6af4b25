import { DateTime } from 'luxon';
import { WEEKDAYS, type WeeklyHours } from '../engagement/engagementSchema.js';

/**
 * True when `now`, read on the wall clock of the queue's own zone, falls in one of that weekday's
 * ranges (start inclusive, end exclusive, "24:00" = end of day). Comparing wall-clock times makes DST
 * days right without special cases: on a spring-forward day 02:30 never happens, and on a fall-back
 * day 01:30 happens twice and is inside a 01:00-02:00 range both times.
 */
export function isWithinOperatingHours(hours: WeeklyHours, now: Date): boolean {
  const local = DateTime.fromJSDate(now, { zone: hours.timeZone });
  const weekday = WEEKDAYS[local.weekday - 1];
  if (weekday === undefined) return false;
  const ranges = hours.days[weekday] ?? [];
  const minute = local.hour * 60 + local.minute;
  return ranges.some((r) => toMinutes(r.start) <= minute && minute < toMinutes(r.end));
}

function toMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}
