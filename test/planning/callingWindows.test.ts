import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { computeCallingWindows, MIN_WINDOW_MS, ScheduleCache } from '../../src/planning/callingWindows.js';
import type { Span } from '../../src/planning/timeIntervals.js';

const HOUR = 3_600_000;
const legalHours = { start: '08:00', end: '21:00' };

function windowsFor(zone: string, fromIso: string, hours: number, rules: Partial<Parameters<typeof computeCallingWindows>[2]> = {}) {
  const now = DateTime.fromISO(fromIso, { zone: 'utc' }).toMillis();
  const cache = new ScheduleCache(now, now + hours * HOUR);
  return computeCallingWindows([{ start: now, end: now + hours * HOUR }], zone, { legalHours, quietHours: [], queueHours: undefined, ...rules }, now, cache);
}

const local = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone });

describe('calling windows', () => {
  it('keeps to 08:00-21:00 local in Asia/Kolkata (UTC+05:30, a half-hour offset)', () => {
    const spans = windowsFor('Asia/Kolkata', '2026-11-25T00:00:00Z', 24);
    expect(spans.map((s) => [local(s.start, 'Asia/Kolkata').toFormat('HH:mm'), local(s.end, 'Asia/Kolkata').toFormat('HH:mm')])).toEqual([['08:00', '21:00']]);
    expect(new Date((spans[0] as Span).start).toISOString()).toBe('2026-11-25T02:30:00.000Z');
  });

  it('spring-forward day in America/New_York: the legal day is 13 h of local time, 13 h of real time', () => {
    // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
    const spans = windowsFor('America/New_York', '2026-03-08T05:00:00Z', 24);
    expect(spans).toHaveLength(1);
    const [s] = spans as [Span];
    expect(local(s.start, 'America/New_York').toISO()).toBe('2026-03-08T08:00:00.000-04:00');
    expect(s.end - s.start).toBe(13 * HOUR);
  });

  it('fall-back day in Europe/London: windows start at 08:00 GMT after the change', () => {
    const spans = windowsFor('Europe/London', '2026-10-25T00:00:00Z', 24);
    expect(local((spans[0] as Span).start, 'Europe/London').toISO()).toBe('2026-10-25T08:00:00.000+00:00');
  });

  it('quiet hours crossing midnight remove the evening and the morning', () => {
    const spans = windowsFor('Europe/Paris', '2026-11-24T23:00:00Z', 24, { quietHours: [{ start: '19:00', end: '09:30' }] });
    expect(spans.map((s) => [local(s.start, 'Europe/Paris').toFormat('HH:mm'), local(s.end, 'Europe/Paris').toFormat('HH:mm')])).toEqual([['09:30', '19:00']]);
  });

  it('queue operating hours in the queue zone narrow the contact-local window', () => {
    const queueHours = { timeZone: 'America/New_York', days: { wednesday: [{ start: '09:00', end: '17:00' }] } };
    // Contact in Los Angeles: legal 08:00-21:00 PT = 11:00-24:00 ET; queue 09:00-17:00 ET; overlap 11:00-17:00 ET.
    const spans = windowsFor('America/Los_Angeles', '2026-11-25T05:00:00Z', 24, { queueHours });
    expect(spans.map((s) => [local(s.start, 'America/New_York').toFormat('HH:mm'), local(s.end, 'America/New_York').toFormat('HH:mm')])).toEqual([
      ['11:00', '17:00'],
    ]);
  });

  it('starts no earlier than now and drops windows shorter than the minimum', () => {
    const spans = windowsFor('UTC', '2026-11-25T20:57:00Z', 2);
    expect(spans).toEqual([]);
    const later = windowsFor('UTC', '2026-11-25T20:50:00Z', 2);
    expect(later).toEqual([{ start: Date.parse('2026-11-25T20:50:00Z'), end: Date.parse('2026-11-25T21:00:00Z') }]);
  });

  it('property: no window falls outside contact-local legal hours in any IANA zone, DST included', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    const start = Date.parse('2026-01-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 364 * 24 * 4 }), // any quarter hour of the year: every DST change is reachable
        fc.integer({ min: 1, max: 72 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 13, max: 24 }),
        (zone, quarter, hours, legalStart, legalEnd) => {
          const rules = { start: `${String(legalStart).padStart(2, '0')}:00`, end: `${String(legalEnd).padStart(2, '0')}:00` };
          const now = start + quarter * 15 * 60_000;
          const cache = new ScheduleCache(now, now + hours * HOUR);
          const spans = computeCallingWindows(
            [{ start: now, end: now + hours * HOUR }],
            zone,
            { legalHours: rules, quietHours: [], queueHours: undefined },
            now,
            cache,
          );
          for (const s of spans) {
            expect(s.start).toBeGreaterThanOrEqual(now);
            expect(s.end - s.start).toBeGreaterThanOrEqual(MIN_WINDOW_MS);
            // Every minute boundary inside the window is inside legal hours on the local clock.
            for (let t = s.start; t < s.end; t += 15 * 60_000) {
              const l = local(t, zone);
              const minutes = l.hour * 60 + l.minute;
              expect(minutes).toBeGreaterThanOrEqual(legalStart * 60);
              expect(minutes).toBeLessThan(legalEnd * 60);
            }
            const last = local(s.end - 1, zone);
            expect(last.hour * 60 + last.minute).toBeLessThan(legalEnd * 60);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
