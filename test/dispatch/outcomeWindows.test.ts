import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import { runPacingTick } from '../../src/dispatch/runPacingTick.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { ALL_DAY_UTC, mobileEngagementEntry, plannedMobileContact, representative } from '../support/engagements.js';
import { outcomeDepsOn, pacingTickDepsOn } from '../support/pacingTickDeps.js';
import { testTables } from '../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const reps = (offset: number) => Array.from({ length: 4 }, (_, i) => representative(offset + i + 1));

const engagement = (id: string, windowMinutes: number, queue: string) =>
  mobileEngagementEntry(id, queue, {
    callOrder: { kind: 'fifo' },
    rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes, decreaseByPercent: 50 }],
  });

describe('rule windows beyond 24 hours, read by the pacing tick from the hourly aggregates', () => {
  it('an abandonment two days ago binds a 3-day rule and not a 1-day rule; the tick dials accordingly', async () => {
    const tables = testTables();
    const catalog = parseEngagementFile({
      queues: [
        { name: 'q1', operatingHours: ALL_DAY_UTC, representatives: reps(0) },
        { name: 'q2', operatingHours: ALL_DAY_UTC, representatives: reps(10) },
      ],
      engagements: [engagement('three-days', 3 * 24 * 60, 'q1'), engagement('one-day', 24 * 60, 'q2')],
    });
    const clock = new VirtualClock(NOW);
    const simulator = new TelephonySimulator({
      seed: 1,
      clock,
      engagements: [...catalog.engagements.values()],
      queues: [...catalog.queues.values()],
      profile: {},
    });
    const outcomeDeps = outcomeDepsOn(tables, catalog, () => clock.now());
    const { deliveries, outcomes } = outcomeDeps;
    // Two days ago, both engagements: 40 answered calls, 4 abandoned (10%).
    for (const id of ['three-days', 'one-day']) {
      for (let i = 0; i < 40; i++) {
        const event: CallEvent = {
          deliveryId: `old-${i}`,
          attempt: 1,
          engagementId: id,
          result: i < 4 ? 'Abandoned' : 'LiveAnswer',
          at: new Date(NOW - 2 * DAY + i * 60_000).toISOString(),
        };
        await outcomes.record(event);
      }
      await deliveries.storeContacts(
        id,
        'trigger',
        Array.from({ length: 8 }, (_, i) => plannedMobileContact(i, NOW - HOUR, NOW + 8 * HOUR)),
        NOW,
      );
    }
    const deps = pacingTickDepsOn(tables, outcomeDeps, { dialer: simulator, presence: simulator });

    const report = await runPacingTick(deps, NOW);

    const byId = new Map(report.decisions.map((d) => [d.engagementId, d]));
    const threeDays = byId.get('three-days')?.rules.find((r) => r.kind === 'abandonment-rate');
    const oneDay = byId.get('one-day')?.rules.find((r) => r.kind === 'abandonment-rate');
    expect(threeDays).toMatchObject({ windowMinutes: 4320, measured: 10, sample: 40, breached: true, effect: 'throttle' });
    expect(oneDay).toMatchObject({ windowMinutes: 1440, measured: null, sample: 0, breached: false });
    // Four representatives each: the 3-day rule halves the calls, the 1-day one does not.
    expect(byId.get('three-days')?.dialNow).toBe(2);
    expect(byId.get('one-day')?.dialNow).toBe(4);
  });
});
