import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import type { DialRequest, DialSubmission } from '../../src/dialers/dialerPort.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import type { EngagementConfig } from '../../src/engagement/engagementSchema.js';
import { decidePacing } from '../../src/pacing/decidePacing.js';
import { OutcomeLog } from '../../src/pacing/outcomeLog.js';
import { emptyPacingState } from '../../src/pacing/pacingState.js';
import { summarizeOutcomes } from '../../src/pacing/summarizeOutcomes.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';

const START = Date.parse('2026-03-10T13:00:00.000Z');
const queue = makeQueue({ representatives: Array.from({ length: 50 }, (_, i) => ({ userId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` })) });

/** Two virtual hours of one engagement paced every 2 s against the simulator. */
async function runHours(engagement: EngagementConfig, hours: number) {
  const clock = new VirtualClock(START);
  const sim = new TelephonySimulator({ seed: 99, clock, engagements: [engagement], queues: [queue] });
  const log = new OutcomeLog();
  const seen: CallEvent[] = [];
  sim.onCallEvent((e) => {
    log.append(e);
    seen.push(e);
  });
  const submissions: DialSubmission[] = [];
  let state = emptyPacingState();
  let next = 0;
  let status = '';
  while (clock.now() < START + hours * 3_600_000) {
    const { state: after, decisions } = decidePacing({
      now: new Date(clock.now()),
      engagements: [engagement],
      queues: new Map([[queue.name, queue]]),
      availableRepresentatives: new Map([[queue.name, sim.availableRepresentatives(queue.name)]]),
      active: new Map([[engagement.id, sim.activeCalls(engagement.id)]]),
      outcomes: new Map([[engagement.id, log]]),
      pending: new Map([[engagement.id, 1_000_000]]),
      state,
    });
    state = after;
    const d = decisions[0];
    if (d === undefined) throw new Error('no decision');
    status = d.status;
    const requests: DialRequest[] = Array.from({ length: d.dialNow }, (_, i) => ({
      deliveryId: `d-${next++}`,
      attempt: 1,
      engagementId: engagement.id,
      priority: 1,
      contact: { contactId: 'c', phones: [{ type: 'mobile', e164: '+15550000000' }], timeZone: 'UTC', attributes: {}, windows: [] },
      ...(d.reservedRepresentativeIds[i] === undefined ? {} : { representativeId: d.reservedRepresentativeIds[i] }),
    }));
    submissions.push(...(await sim.dial(requests)));
    clock.advanceBy(2_000);
  }
  const occupancy = sim.representativeStats().busyMs / (50 * hours * 3_600_000);
  return { occupancy, summary: summarizeOutcomes(seen, new Date(clock.now()), hours * 60), status, submissions };
}

describe('pacing against the simulator (two virtual hours, 50 representatives, 20% live answer)', () => {
  it('predictive keeps abandonment under 3% and busies representatives far more than one call per representative', async () => {
    const baseline = await runHours(makeEngagement({ id: 'base', dialMode: { mode: 'progressive', maxCallsPerRepresentative: 1 } }), 2);
    const predictive = await runHours(
      makeEngagement({
        id: 'pred',
        dialMode: { mode: 'predictive' },
        rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 1440, decreaseByPercent: 100 }],
      }),
      2,
    );
    expect(predictive.status).toBe('running');
    expect(predictive.summary.abandonmentRate ?? 1).toBeLessThanOrEqual(0.03);
    expect(predictive.occupancy).toBeGreaterThan(baseline.occupancy * 1.25);
    expect(baseline.summary.abandoned).toBe(0);
  });

  it('preview reservations are always accepted by the dialer (a representative is never reserved twice)', async () => {
    const preview = await runHours(makeEngagement({ id: 'prev', dialMode: { mode: 'preview', countdownSeconds: 10 } }), 1);
    expect(preview.submissions.length).toBeGreaterThan(100);
    expect(preview.submissions.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(preview.summary.abandoned).toBe(0);
  });
});
