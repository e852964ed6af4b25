import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ContactInput } from '../../src/contacts/contactInput.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { planDeliveries, type PlanningState, type TriggerContact } from '../../src/planning/planDeliveries.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';

const NOW = Date.parse('2026-11-25T15:00:00Z'); // a Wednesday
const noState: PlanningState = { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined };

function contact(id: string, extra: Record<string, unknown> = {}): TriggerContact {
  const parsed: ContactInput = contactInputSchema.parse({
    contactId: id,
    firstName: 'Ada',
    phones: { mobile: '+12125550100' },
    timeZone: 'America/New_York',
    ...extra,
  });
  return { contact: parsed, source: 'event:e1' };
}

function plan(contacts: TriggerContact[], engagementOverrides: Record<string, unknown> = {}, state = noState, now = NOW) {
  return planDeliveries({ engagement: makeEngagement(engagementOverrides), queue: makeQueue(), triggerId: 't1', contacts, state, now });
}

describe('planDeliveries skips', () => {
  it('zero contacts: an empty plan', () => {
    const p = plan([]);
    expect(p.planned).toEqual([]);
    expect(p.skipped).toEqual([]);
  });

  it('skips each reason with its code', () => {
    const state: PlanningState = {
      isDoNotContact: (key) => key === '+12125550111' || key === 'contact:dnc-contact',
      recentEngagements: (id) => (id === 'busy-today' ? [NOW - 3_600_000] : id === 'busy-week' ? [NOW - 2 * 86_400_000, NOW - 86_400_000] : []),
      pendingTrigger: (id) => (id === 'pending-elsewhere' ? 'other-trigger' : id === 'pending-here' ? 't1' : undefined),
    };
    const p = plan(
      [
        contact('ok'),
        contact('ok'),
        contact('dnc-number', { phones: { mobile: '+12125550111' } }),
        contact('dnc-contact'),
        contact('no-number', { phones: {} }),
        contact('invalid', { phones: { mobile: '12345' } }),
        contact('busy-today'),
        contact('busy-week'),
        contact('pending-elsewhere'),
        contact('pending-here'),
        contact('night-only', { windows: [{ start: '2026-11-26T03:00:00Z', end: '2026-11-26T06:00:00Z' }] }),
      ],
      { frequencyLimits: { perDay: 1, perWeek: 2 } },
      state,
    );
    expect(p.planned.map((x) => x.contact.contactId)).toEqual(['ok', 'pending-here']);
    expect(Object.fromEntries(p.skipped.map((s) => [s.contactId, s.reason]))).toEqual({
      ok: 'duplicate',
      'dnc-number': 'do-not-contact',
      'dnc-contact': 'do-not-contact',
      'no-number': 'no-callable-number',
      invalid: 'invalid-phone',
      'busy-today': 'frequency-limit-day',
      'busy-week': 'frequency-limit-week',
      'pending-elsewhere': 'duplicate',
      'night-only': 'no-window-legal-hours',
    });
    expect(p.skippedCounts).toEqual({
      duplicate: 2,
      'do-not-contact': 2,
      'no-callable-number': 1,
      'invalid-phone': 1,
      'frequency-limit-day': 1,
      'frequency-limit-week': 1,
      'no-window-requested-window': 0,
      'no-window-legal-hours': 1,
      'no-window-queue-hours': 0,
      'no-window-quiet-hours': 0,
    });
  });

  it('no window: legal hours, quiet hours, queue hours and the requested window told apart', () => {
    // NOW is 10:00 in New York. 16:00-18:00Z is 11:00-13:00 there: lawful, but the queue below is
    // open only 00:00-01:00 UTC, and the quiet-hours engagement keeps mobiles quiet 09:00-17:00.
    const lawful = [{ start: '2026-11-25T16:00:00Z', end: '2026-11-25T18:00:00Z' }];
    const contacts = [
      contact('past', { windows: [{ start: '2026-11-25T10:00:00Z', end: '2026-11-25T12:00:00Z' }] }),
      contact('night', { windows: [{ start: '2026-11-26T03:00:00Z', end: '2026-11-26T06:00:00Z' }] }),
      contact('lawful', { windows: lawful }),
    ];
    const reasons = (engagement: Record<string, unknown>, queue: Record<string, unknown> = {}) =>
      Object.fromEntries(
        planDeliveries({ engagement: makeEngagement(engagement), queue: makeQueue(queue), triggerId: 't1', contacts, state: noState, now: NOW }).skipped.map(
          (s) => [s.contactId, s.reason],
        ),
      );
    const earlyQueue = { operatingHours: { timeZone: 'UTC', days: { wednesday: [{ start: '00:00', end: '01:00' }] } } };
    expect(reasons({}, earlyQueue)).toEqual({ past: 'no-window-requested-window', night: 'no-window-legal-hours', lawful: 'no-window-queue-hours' });
    expect(reasons({ quietHours: { mobile: [{ start: '09:00', end: '17:00' }], home: [], business: [] } })).toEqual({
      past: 'no-window-requested-window',
      night: 'no-window-legal-hours',
      lawful: 'no-window-quiet-hours',
    });
    // Allowed outside queue hours: the early queue no longer closes the lawful window.
    expect(reasons({ dialMode: { mode: 'progressive', maxCallsPerRepresentative: 1 }, operatingHours: { allowOutsideQueueHours: true } }, earlyQueue)).toEqual({
      past: 'no-window-requested-window',
      night: 'no-window-legal-hours',
    });
  });

  it('no window on two phones, each in its own quiet hours: quiet hours', () => {
    const p = plan(
      [contact('c', { phones: { mobile: '+12125550100', home: '+12125550122' }, windows: [{ start: '2026-11-25T16:00:00Z', end: '2026-11-25T18:00:00Z' }] })],
      {
        quietHours: { mobile: [{ start: '09:00', end: '17:00' }], home: [{ start: '10:00', end: '14:00' }], business: [] },
      },
    );
    expect(p.skipped).toEqual([{ contactId: 'c', reason: 'no-window-quiet-hours' }]);
  });

  it('drops a do-not-contact number but keeps the contact on its other number', () => {
    const state: PlanningState = { ...noState, isDoNotContact: (k) => k === '+12125550111' };
    const p = plan([contact('c', { phones: { mobile: '+12125550111', home: '+12125550122' } })], {}, state);
    expect(p.planned[0]?.contact.phones.map((x) => x.e164)).toEqual(['+12125550122']);
  });

  it('a phone type outside the engagement phone order is not callable', () => {
    const p = plan([contact('c', { phones: { business: '+12125550100' } })], { phoneOrder: ['mobile'], quietHours: { mobile: [] } });
    expect(p.skipped).toEqual([{ contactId: 'c', reason: 'no-callable-number' }]);
  });

  it('frequency limits count in the contact local calendar: yesterday in Tokyo is not today', () => {
    // NOW is 00:00 on 2026-11-26 in Tokyo; an engagement at 23:30 Tokyo time on the 25th is yesterday there.
    const state: PlanningState = { ...noState, recentEngagements: () => [NOW - 30 * 60_000] };
    const p = plan([contact('c', { timeZone: 'Asia/Tokyo', phones: { mobile: '+81312345678' } })], { frequencyLimits: { perDay: 1 } }, state);
    expect(p.skipped).toEqual([]);
    const ny = plan([contact('c')], { frequencyLimits: { perDay: 1 } }, state);
    expect(ny.skipped).toEqual([{ contactId: 'c', reason: 'frequency-limit-day' }]);
  });
});

describe('planDeliveries time zones', () => {
  it('infers the zone from the number when the policy allows, and flags it', () => {
    const p = plan([contact('c', { timeZone: undefined, phones: { mobile: '+14155550100' } })], { timeZonePolicy: 'contact-else-inferred' });
    expect(p.planned[0]?.contact).toMatchObject({ timeZone: 'America/Los_Angeles', timezoneInferred: true });
  });

  it('falls back to UTC without inference under contact-else-utc', () => {
    const p = plan([contact('c', { timeZone: undefined, phones: { mobile: '+14155550100' } })]);
    expect(p.planned[0]?.contact).toMatchObject({ timeZone: 'UTC', timezoneInferred: false });
  });

  it('uses UTC for everyone under the utc policy, even when a zone is given', () => {
    const p = plan([contact('c', { timeZone: 'Asia/Kolkata' })], { timeZonePolicy: 'utc' });
    expect(p.planned[0]?.contact.timeZone).toBe('UTC');
  });

  it('does not infer across a range that spans zones with different clocks (a US toll-free number)', () => {
    const p = plan([contact('c', { timeZone: undefined, phones: { mobile: '+18005550199' } })], { timeZonePolicy: 'contact-else-inferred' });
    expect(p.planned[0]?.contact).toMatchObject({ timeZone: 'UTC', timezoneInferred: false });
  });
});

describe('planDeliveries properties', () => {
  const zones = ['America/New_York', 'Europe/London', 'Asia/Kolkata', 'Australia/Adelaide', 'Pacific/Chatham', 'UTC'];
  const contactArb = fc.record({
    id: fc.stringMatching(/^[a-z0-9]{1,6}$/),
    zone: fc.constantFrom(...zones),
    score: fc.option(fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constant('n/a')), { nil: undefined }),
  });

  it('is deterministic for fixed input and now', () => {
    fc.assert(
      fc.property(fc.array(contactArb, { maxLength: 30 }), fc.integer({ min: 0, max: 365 * 24 }), (cs, hour) => {
        const contacts = cs.map((c) => contact(c.id, { timeZone: c.zone, attributes: c.score === undefined ? {} : { score: c.score } }));
        const now = Date.parse('2026-01-01T00:00:00Z') + hour * 3_600_000;
        expect(plan(contacts, {}, noState, now)).toEqual(plan(contacts, {}, noState, now));
      }),
      { numRuns: 60 },
    );
  });

  it('call order holds: custom priority desc ranks numbers high to low, then unranked in arrival order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(contactArb, { selector: (c) => c.id, maxLength: 40 }), (cs) => {
        const contacts = cs.map((c) => contact(c.id, { attributes: c.score === undefined ? {} : { score: c.score } }));
        const p = plan(contacts, { callOrder: { kind: 'custom-priority', attribute: 'score', direction: 'desc' } });
        const sorted = [...p.planned].sort((a, b) => (a.contact.callOrderKey < b.contact.callOrderKey ? -1 : 1));
        const ranked = sorted.filter((x) => typeof x.contact.attributes['score'] === 'number');
        const unranked = sorted.filter((x) => typeof x.contact.attributes['score'] !== 'number');
        expect(sorted).toEqual([...ranked, ...unranked]);
        for (let i = 1; i < ranked.length; i++) {
          const prev = ranked[i - 1]?.contact.attributes['score'] as number;
          const cur = ranked[i]?.contact.attributes['score'] as number;
          expect(prev).toBeGreaterThanOrEqual(cur);
          if (prev === cur) expect((ranked[i - 1]?.index ?? 0) < (ranked[i]?.index ?? 0)).toBe(true);
        }
        expect(unranked.map((x) => x.index)).toEqual([...unranked.map((x) => x.index)].sort((a, b) => a - b));
      }),
      { numRuns: 100 },
    );
  });

  it('call order holds for fifo, lifo and earliest-scheduled', () => {
    fc.assert(
      fc.property(fc.uniqueArray(contactArb, { selector: (c) => c.id, minLength: 2, maxLength: 30 }), (cs) => {
        const contacts = cs.map((c) => contact(c.id, { timeZone: c.zone }));
        const order = (kind: string) =>
          [...plan(contacts, { callOrder: { kind } }).planned].sort((a, b) => (a.contact.callOrderKey < b.contact.callOrderKey ? -1 : 1));
        const fifo = order('fifo').map((x) => x.index);
        expect(fifo).toEqual([...fifo].sort((a, b) => a - b));
        expect(order('lifo').map((x) => x.index)).toEqual([...fifo].reverse());
        const ends = order('earliest-scheduled').map((x) => Date.parse(x.contact.windows[0]?.end ?? ''));
        expect(ends).toEqual([...ends].sort((a, b) => a - b));
      }),
      { numRuns: 60 },
    );
  });
});
