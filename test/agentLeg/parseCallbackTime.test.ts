import { describe, expect, it } from 'vitest';
import { parseCallbackTime } from '../../src/agentLeg/parseCallbackTime.js';

function at(text: string, nowIso: string, zone: string): string | undefined {
  const parsed = parseCallbackTime(text, new Date(nowIso), zone);
  return parsed.kind === 'at' ? (parsed.at.toUTC().toISO() ?? undefined) : undefined;
}

describe('parseCallbackTime', () => {
  it('"tomorrow at 3pm" across the US spring-forward keeps 3 PM local (EST today, EDT tomorrow)', () => {
    // Saturday 2026-03-07 18:00 EST (UTC-5); clocks go forward on Sunday 2026-03-08 at 02:00.
    expect(at('tomorrow at 3pm', '2026-03-07T23:00:00Z', 'America/New_York')).toBe('2026-03-08T19:00:00.000Z');
  });

  it('"tomorrow at 3pm" across the UK fall-back keeps 3 PM local (BST today, GMT tomorrow)', () => {
    // Saturday 2026-10-24 13:00 BST (UTC+1); clocks go back on Sunday 2026-10-25 at 02:00.
    expect(at('call me tomorrow at 3 p.m.', '2026-10-24T12:00:00Z', 'Europe/London')).toBe('2026-10-25T15:00:00.000Z');
  });

  it('"tomorrow" is the contact\'s tomorrow when it is already tomorrow in UTC', () => {
    // 2026-03-08T03:30Z is Saturday 22:30 in New York: tomorrow is Sunday the 8th there.
    expect(at('tomorrow at 9am', '2026-03-08T03:30:00Z', 'America/New_York')).toBe('2026-03-08T13:00:00.000Z');
  });

  it('a time already passed today means tomorrow', () => {
    // 18:00 in Kolkata (UTC+5:30, no DST): "at 17:30" is tomorrow 17:30.
    expect(at('at 17:30', '2026-06-01T12:30:00Z', 'Asia/Kolkata')).toBe('2026-06-02T12:00:00.000Z');
    expect(at('at 19:15', '2026-06-01T12:30:00Z', 'Asia/Kolkata')).toBe('2026-06-01T13:45:00.000Z');
  });

  it('a bare "at 5" on the phone is 5 PM; "at 9" stays morning; "05:30" is a 24-hour clock', () => {
    const now = '2026-06-01T12:00:00Z'; // 08:00 in New York
    expect(at('at 5', now, 'America/New_York')).toBe('2026-06-01T21:00:00.000Z');
    expect(at('at 9', now, 'America/New_York')).toBe('2026-06-01T13:00:00.000Z');
    expect(at('tomorrow 05:30', now, 'America/New_York')).toBe('2026-06-02T09:30:00.000Z');
  });

  it('parts of the day and "in the afternoon" set the hour', () => {
    const now = '2026-06-01T12:00:00Z';
    expect(at('tomorrow morning', now, 'America/New_York')).toBe('2026-06-02T13:00:00.000Z');
    expect(at('tomorrow at 3 in the afternoon', now, 'America/New_York')).toBe('2026-06-02T19:00:00.000Z');
    expect(at('tomorrow at noon', now, 'America/New_York')).toBe('2026-06-02T16:00:00.000Z');
  });

  it('ISO times: without an offset they are local, with one they are that instant', () => {
    const now = '2026-06-01T12:00:00Z';
    expect(at('2026-06-03T10:15', now, 'Europe/Paris')).toBe('2026-06-03T08:15:00.000Z');
    expect(at('2026-06-03T10:15:00Z', now, 'Europe/Paris')).toBe('2026-06-03T10:15:00.000Z');
  });

  it('relative times, weekdays and month dates', () => {
    const now = '2026-06-01T12:00:00Z'; // Monday 08:00 in New York
    expect(at('in 2 hours', now, 'America/New_York')).toBe('2026-06-01T14:00:00.000Z');
    expect(at('in half an hour', now, 'America/New_York')).toBe('2026-06-01T12:30:00.000Z');
    expect(at('next monday at 10am', now, 'America/New_York')).toBe('2026-06-08T14:00:00.000Z');
    expect(at('on Wednesday at 4:30 pm', now, 'America/New_York')).toBe('2026-06-03T20:30:00.000Z');
    expect(at('June 10th at 11am', now, 'America/New_York')).toBe('2026-06-10T15:00:00.000Z');
  });

  it('a day without a time is day-only; no time at all is none', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    expect(parseCallbackTime('call me tomorrow', now, 'America/New_York').kind).toBe('day-only');
    expect(parseCallbackTime('call me back later', now, 'America/New_York').kind).toBe('none');
    expect(parseCallbackTime('I have 2 kids', now, 'America/New_York').kind).toBe('none');
  });
});
