import { describe, expect, it } from 'vitest';
import type { WeeklyHours } from '../../src/engagement/engagementSchema.js';
import { isWithinOperatingHours } from '../../src/pacing/isWithinOperatingHours.js';

const newYork: WeeklyHours = {
  timeZone: 'America/New_York',
  days: {
    tuesday: [
      { start: '09:00', end: '12:00' },
      { start: '13:00', end: '17:30' },
    ],
    sunday: [{ start: '08:00', end: '20:00' }],
  },
};

describe('isWithinOperatingHours', () => {
  it('Tuesday 09:30 in New York (13:30 UTC, EDT) is open', () => {
    expect(isWithinOperatingHours(newYork, new Date('2026-03-10T13:30:00Z'))).toBe(true);
  });
  it('Tuesday 08:59 in New York is closed; the lunch gap 12:00-13:00 too', () => {
    expect(isWithinOperatingHours(newYork, new Date('2026-03-10T12:59:00Z'))).toBe(false);
    expect(isWithinOperatingHours(newYork, new Date('2026-03-10T16:30:00Z'))).toBe(false);
  });
  it('a day not listed is closed (Monday)', () => {
    expect(isWithinOperatingHours(newYork, new Date('2026-03-09T15:00:00Z'))).toBe(false);
  });
  it('spring-forward Sunday 2026-03-08: 12:30 UTC is 08:30 EDT (open), a week earlier it was 07:30 EST (closed)', () => {
    expect(isWithinOperatingHours(newYork, new Date('2026-03-08T12:30:00Z'))).toBe(true);
    expect(isWithinOperatingHours(newYork, new Date('2026-03-01T12:30:00Z'))).toBe(false);
  });
  it('fall-back Sunday 2026-10-25 in London: 01:30 happens twice and both are inside 01:00-02:00', () => {
    const london: WeeklyHours = { timeZone: 'Europe/London', days: { sunday: [{ start: '01:00', end: '02:00' }] } };
    expect(isWithinOperatingHours(london, new Date('2026-10-25T00:30:00Z'))).toBe(true); // 01:30 BST
    expect(isWithinOperatingHours(london, new Date('2026-10-25T01:30:00Z'))).toBe(true); // 01:30 GMT
    expect(isWithinOperatingHours(london, new Date('2026-10-25T02:00:00Z'))).toBe(false); // 02:00 GMT
  });
  it('"24:00" closes at the end of the day, not before', () => {
    const late: WeeklyHours = { timeZone: 'UTC', days: { tuesday: [{ start: '20:00', end: '24:00' }] } };
    expect(isWithinOperatingHours(late, new Date('2026-03-10T23:59:00Z'))).toBe(true);
    expect(isWithinOperatingHours(late, new Date('2026-03-11T00:00:00Z'))).toBe(false);
  });
});
