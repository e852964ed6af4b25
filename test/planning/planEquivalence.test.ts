import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { checkPhones, deliveryIdFor, planDeliveries, type PlanningState, type TriggerContact } from '../../src/planning/planDeliveries.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';
import { deliveryIdFor as referenceDeliveryIdFor, planDeliveries as referencePlan } from '../support/referencePlanDeliveries.js';
import { callOrderKey } from '../../src/planning/callOrderKey.js';
import { callOrderKey as referenceCallOrderKey } from '../support/referenceCallOrderKey.js';

const NOW = Date.parse('2026-03-07T15:00:00Z'); // a Saturday, a day before the US spring-forward change
const ZONES = ['America/New_York', 'America/Los_Angeles', 'Europe/London', 'Asia/Kolkata', 'Australia/Adelaide', 'Asia/Kathmandu'];
// Valid, invalid, national-format, duplicated and zone-spanning numbers (toll-free spans US zones).
const NUMBERS = [
  '+12125550100',
  '+13125550101',
  '+14155550102',
  '+442079460000',
  '+919876543210',
  '+61881234567',
  '+18005550100',
  '+1212',
  'not-a-number',
  '2125550103',
  '+12025550104',
];

const QUIET = {
  mobile: [
    { start: '12:00', end: '13:00' },
    { start: '20:00', end: '08:00' },
  ],
  home: [{ start: '18:00', end: '19:30' }],
  business: [],
};

const member = fc.record({
  id: fc.integer({ min: 0, max: 60 }),
  mobile: fc.option(fc.constantFrom(...NUMBERS), { nil: undefined }),
  home: fc.option(fc.constantFrom(...NUMBERS), { nil: undefined }),
  business: fc.option(fc.constantFrom(...NUMBERS), { nil: undefined }),
  zone: fc.option(fc.constantFrom(...ZONES), { nil: undefined }),
  windowAt: fc.option(fc.integer({ min: -6, max: 72 }), { nil: undefined }),
  windowHours: fc.integer({ min: 1, max: 30 }),
  score: fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }),
  name: fc.boolean(),
});

type Member = typeof member extends fc.Arbitrary<infer T> ? T : never;

function page(members: readonly Member[]): TriggerContact[] {
  return members.map((m) => ({
    source: 'segment:s/r/0',
    contact: contactInputSchema.parse({
      contactId: `c${m.id}`,
      ...(m.name ? { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', locale: 'en-GB' } : {}),
      phones: {
        ...(m.mobile === undefined ? {} : { mobile: m.mobile }),
        ...(m.home === undefined ? {} : { home: m.home }),
        ...(m.business === undefined ? {} : { business: m.business }),
      },
      ...(m.zone === undefined ? {} : { timeZone: m.zone }),
      ...(m.windowAt === undefined
        ? {}
        : {
            windows: [
              { start: new Date(NOW + m.windowAt * 3_600_000).toISOString(), end: new Date(NOW + (m.windowAt + m.windowHours) * 3_600_000).toISOString() },
            ],
          }),
      attributes: m.score === undefined ? {} : { score: m.score },
    }),
  }));
}

const engagementArb = fc.record({
  callOrder: fc.constantFrom(
    { kind: 'fifo' },
    { kind: 'lifo' },
    { kind: 'earliest-scheduled' },
    { kind: 'custom-priority', attribute: 'score', direction: 'desc' },
  ),
  phoneOrder: fc.shuffledSubarray(['mobile', 'home', 'business'] as const, { minLength: 1 }),
  quiet: fc.boolean(),
  timeZonePolicy: fc.constantFrom('contact-else-inferred', 'contact-else-utc', 'utc'),
  limits: fc.boolean(),
  outsideQueue: fc.boolean(),
});

describe('the optimised planner gives the plans of the planner before the speed work', () => {
  it('on generated pages: same planned contacts (as JSON), same skips and counts', () => {
    fc.assert(
      fc.property(fc.array(member, { maxLength: 80 }), engagementArb, fc.integer({ min: 0, max: 3 }), (members, e, dncSeed) => {
        const engagement = makeEngagement({
          callOrder: e.callOrder,
          phoneOrder: e.phoneOrder,
          quietHours: Object.fromEntries(e.phoneOrder.map((type) => [type, e.quiet ? QUIET[type] : []])),
          timeZonePolicy: e.timeZonePolicy,
          ...(e.limits ? { frequencyLimits: { perDay: 1, perWeek: 2 } } : {}),
          operatingHours: { allowOutsideQueueHours: e.outsideQueue },
        });
        const queue = makeQueue({
          operatingHours: {
            timeZone: 'America/Chicago',
            days: { monday: [{ start: '09:00', end: '17:00' }], saturday: [{ start: '10:00', end: '14:00' }], sunday: [{ start: '10:00', end: '12:00' }] },
          },
        });
        const contacts = page(members);
        const state: PlanningState = {
          isDoNotContact: (key) => key === NUMBERS[dncSeed] || key === `contact:c${dncSeed * 7}`,
          recentEngagements: (id) => (id.endsWith('3') ? [NOW - 3_600_000] : id.endsWith('5') ? [NOW - 30 * 3_600_000, NOW - 50 * 3_600_000] : []),
          pendingTrigger: (id) => (id === 'c11' ? 'other-trigger' : id === 'c12' ? 't1' : undefined),
          inEarlierSlice: (id) => id === 'c17' || id === `c${dncSeed * 7}`,
        };
        const input = { engagement, queue, triggerId: 't1', contacts, state, now: NOW, firstIndex: 5 };
        const before = referencePlan(input);
        const after = planDeliveries(input);
        const withChecks = planDeliveries({ ...input, phoneChecks: checkPhones(engagement, contacts) });
        expect(JSON.stringify(after.planned)).toBe(JSON.stringify(before.planned));
        expect(after.skipped).toEqual(before.skipped);
        expect(after.skippedCounts).toEqual(before.skippedCounts);
        expect(JSON.stringify(withChecks)).toBe(JSON.stringify(after));
      }),
      { numRuns: 150 },
    );
  });
});

describe('the call-order key (priorities memoised) gives the former keys', () => {
  it('for every order, any priority value (numbers, numeric text, -0, junk) and position', () => {
    const order = fc.oneof(
      fc.constantFrom({ kind: 'fifo' as const }, { kind: 'lifo' as const }, { kind: 'earliest-scheduled' as const }),
      fc.record({
        kind: fc.constant('custom-priority' as const),
        attribute: fc.constant('score'),
        direction: fc.constantFrom('asc' as const, 'desc' as const),
      }),
    );
    const score = fc.oneof(
      fc.double(),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(0, -0, 1e300, -1e-300, Number.NaN, Number.POSITIVE_INFINITY),
      fc.constantFrom('12.5', ' ', '', 'abc', '-0', '1e3'),
      fc.boolean(),
    );
    fc.assert(
      fc.property(order, fc.array(fc.tuple(score, fc.nat(), fc.nat()), { maxLength: 30 }), fc.integer({ min: 0, max: 2 ** 45 }), (o, inputs, receivedAt) => {
        for (const [value, sequence, firstWindowEnd] of inputs) {
          const input = { receivedAt, sequence, firstWindowEnd, attributes: { score: value } };
          expect(callOrderKey(o, input)).toBe(referenceCallOrderKey(o, input));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the delivery id (written into one flat string) is the former id', () => {
  it('for any engagement, source and contact id, non-ASCII included', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(text, text, text, (engagementId, source, contactId) => {
        const id = deliveryIdFor(engagementId, source, contactId);
        expect(id).toBe(referenceDeliveryIdFor(engagementId, source, contactId));
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }),
      { numRuns: 500 },
    );
  });
});
