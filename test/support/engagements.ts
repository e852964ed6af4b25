import { engagementSchema, queueSchema, type EngagementConfig, type QueueConfig } from '../../src/engagement/engagementSchema.js';
import { parseEngagementFile, type EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';

/** A representative-led progressive engagement with every optional setting at its default. */
export function makeEngagement(overrides: Record<string, unknown> = {}): EngagementConfig {
  return engagementSchema.parse({
    id: 'test-engagement',
    name: 'Test engagement',
    workstream: 'Outbound voice',
    channel: 'voice',
    routing: { primaryQueue: 'q1', skills: [] },
    type: 'representative-led',
    dialMode: { mode: 'progressive', maxCallsPerRepresentative: 2 },
    phoneOrder: ['mobile', 'home', 'business'],
    quietHours: { mobile: [], home: [], business: [] },
    ...overrides,
  });
}

/** A queue open every day around the clock, in UTC. */
export function makeQueue(overrides: Record<string, unknown> = {}): QueueConfig {
  const allDay = [{ start: '00:00', end: '24:00' }];
  return queueSchema.parse({
    name: 'q1',
    operatingHours: {
      timeZone: 'UTC',
      days: { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay },
    },
    representatives: [{ userId: '00000000-0000-4000-8000-000000000001' }],
    ...overrides,
  });
}

/** Operating hours (an engagement file's `operatingHours`) open every day around the clock, in UTC. */
export const ALL_DAY_UTC = {
  timeZone: 'UTC',
  days: Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [day, [{ start: '00:00', end: '24:00' }]]),
  ),
};

/** Representative `i` (1-based) as an engagement file lists it: a fixed user id. */
export const representative = (i: number) => ({ userId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` });

/**
 * An engagement file's entry (unparsed) for `id` on `primaryQueue`: representative-led progressive with
 * one call per representative, mobile only, no quiet hours, legal around the clock, UTC; `overrides`
 * replace or add fields.
 */
export function mobileEngagementEntry(id: string, primaryQueue: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: id,
    workstream: 'ws',
    channel: 'voice',
    routing: { primaryQueue },
    type: 'representative-led',
    dialMode: { mode: 'progressive', maxCallsPerRepresentative: 1 },
    phoneOrder: ['mobile'],
    quietHours: { mobile: [] },
    legalHours: { start: '00:00', end: '24:00' },
    timeZonePolicy: 'utc',
    ...overrides,
  };
}

/**
 * A catalogue of one representative-led progressive engagement `e` (one call per representative, mobile
 * only, no quiet hours, legal around the clock, UTC) on one queue `q` open all day with one representative:
 * the smallest engagement file on which every contact with a mobile number is callable at once.
 */
export function oneQueueCatalog(): EngagementCatalog {
  return parseEngagementFile({
    queues: [{ name: 'q', operatingHours: ALL_DAY_UTC, representatives: [representative(1)] }],
    engagements: [mobileEngagementEntry('e', 'q', { name: 'E' })],
  });
}

/**
 * Planned contact `c<i>` (delivery `d-<i>`) with one mobile number, callable in [start, end) (epoch ms),
 * in UTC, with call-order key `k<i>` so contacts sort by `i`.
 */
export function plannedMobileContact(i: number, start: number, end: number): PlannedContact {
  const windows = [{ start: new Date(start).toISOString(), end: new Date(end).toISOString() }];
  return {
    contactId: `c${i}`,
    phones: [{ type: 'mobile', e164: `+1212555${String(i).padStart(4, '0')}`, windows }],
    timeZone: 'UTC',
    timezoneInferred: false,
    windows,
    attributes: {},
    callOrderKey: `k${String(i).padStart(6, '0')}`,
    priority: 1,
    source: 'segment:s/r/1',
    deliveryId: `d-${i}`,
  };
}
