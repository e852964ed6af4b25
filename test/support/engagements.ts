import { engagementSchema, queueSchema, type EngagementConfig, type QueueConfig } from '../../src/engagement/engagementSchema.js';

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
