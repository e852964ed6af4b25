import { describe, expect, it } from 'vitest';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';
import type { DialerPort, DialRequest, DialSubmission } from '../../src/dialers/dialerPort.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { acceptOffer, OUTCOME_LOOKBACK_MS, runPacingTick, type PacingTickDeps } from '../../src/dispatch/runPacingTick.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import type { Availability } from '../../src/presence/presencePort.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { testTables } from '../support/tables.js';
import { plannedMobileContact } from '../support/engagements.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const allDay = [{ start: '00:00', end: '24:00' }];
const days = { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay };
const REP_A = '00000000-0000-4000-8000-00000000000a';
const REP_B = '00000000-0000-4000-8000-00000000000b';

function contact(i: number): PlannedContact {
  return plannedMobileContact(i, START - 3_600_000, START + 8 * 3_600_000);
}

class RecordingDialer implements DialerPort {
  readonly name = 'simulator' as const;
  readonly handed: DialRequest[] = [];
  async dial(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    this.handed.push(...requests);
    return requests.map((r) => ({ deliveryId: r.deliveryId, status: 'accepted', backendRef: `ref-${r.deliveryId}` }));
  }
  async cancel(): Promise<void> {}
}

async function harness(start: 'manual' | 'automatic') {
  const tables = testTables();
  const catalog = parseEngagementFile({
    queues: [{ name: 'q', operatingHours: { timeZone: 'UTC', days }, representatives: [{ userId: REP_A }, { userId: REP_B }] }],
    engagements: [
      {
        id: 'e',
        name: 'E',
        workstream: 'ws',
        channel: 'voice',
        routing: { primaryQueue: 'q' },
        type: 'representative-led',
        dialMode: { mode: 'preview', start, countdownSeconds: 20 },
        callOrder: { kind: 'fifo' },
        phoneOrder: ['mobile'],
        quietHours: { mobile: [] },
        legalHours: { start: '00:00', end: '24:00' },
        timeZonePolicy: 'utc',
      },
    ],
  });
  const deliveries = new DeliveryStore(tables);
  const outcomes = new OutcomeStore(tables, () => START);
  const ledger = new FrequencyLedgerStore(tables);
  const dialer = new RecordingDialer();
  const deps: PacingTickDeps = {
    catalog,
    deliveries,
    outcomes,
    recentOutcomes: new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS),
    stateStore: new PacingStateStore(tables),
    leases: new PacingLeaseStore(tables, 'owner'),
    pending: new PendingContactStore(tables),
    doNotContact: new DoNotContactStore(tables, 0),
    ledger,
    dialer,
    presence: { getAvailability: async (ids) => new Map(ids.map((id): [string, Availability] => [id, 'Available'])) },
    leaseMs: 30_000,
    record: async () => undefined,
    log: () => undefined,
  };
  await deliveries.storeContacts('e', 't1', [contact(1), contact(2), contact(3)], START);
  const engagement = catalog.engagements.get('e');
  if (engagement === undefined) throw new Error('no engagement');
  return { deps, dialer, deliveries, ledger, engagement };
}

describe('preview start: manual waits for the representative to accept', () => {
  it('the tick offers (reserves a representative each) and hands nothing over; the accept hands the call over with that representative', async () => {
    const { deps, dialer, deliveries, engagement } = await harness('manual');
    const report = await runPacingTick(deps, START);
    expect(report.decisions[0]?.dialNow).toBe(2);
    expect(dialer.handed).toHaveLength(0);
    const offers = await deliveries.inFlight('e');
    expect(offers.map((o) => o.offeredUntil)).toEqual([START + 20_000, START + 20_000]);
    const offer = offers.find((o) => o.representativeId === REP_A);
    if (offer === undefined) throw new Error('no offer to REP_A');

    // Representatives with an open offer stay reserved: the next tick offers nothing more.
    const next = await runPacingTick(deps, START + 5_000);
    expect(next.decisions[0]?.dialNow).toBe(0);

    expect(await acceptOffer(deps, engagement, offer.deliveryId, REP_B, START + 6_000)).toEqual({
      status: 'refused',
      reason: 'the delivery was offered to another representative',
    });
    expect(await acceptOffer(deps, engagement, offer.deliveryId, REP_A, START + 6_000)).toEqual({ status: 'handed-over' });
    expect(dialer.handed).toHaveLength(1);
    expect(dialer.handed[0]).toMatchObject({ deliveryId: offer.deliveryId, representativeId: REP_A });
    expect((await deliveries.get('e', offer.deliveryId))?.state).toBe('submitted');
    expect(await acceptOffer(deps, engagement, offer.deliveryId, REP_A, START + 7_000)).toMatchObject({ status: 'refused' });
  });

  it('an offer not accepted before the countdown ends is released: the reservation goes and the delivery is offered again, untried', async () => {
    const { deps, dialer, deliveries, engagement } = await harness('manual');
    await runPacingTick(deps, START);
    const offers = await deliveries.inFlight('e');
    const lapsed = offers[0];
    if (lapsed === undefined) throw new Error('no offer');

    expect(await acceptOffer(deps, engagement, lapsed.deliveryId, lapsed.representativeId ?? '', START + 20_000)).toMatchObject({ status: 'refused' });
    const report = await runPacingTick(deps, START + 20_000);
    expect(report.postponed).toBe(2);
    expect(dialer.handed).toHaveLength(0);
    const again = await deliveries.get('e', lapsed.deliveryId);
    expect(again?.attempt).toBe(1);
    expect(['queued', 'dialing']).toContain(again?.state);
    // Released and offered again at the same tick (the representatives are free again), with a new deadline.
    const reoffered = await deliveries.inFlight('e');
    expect(reoffered.every((o) => o.offeredUntil === START + 40_000)).toBe(true);
  });

  it('automatic: the tick hands the calls over at once (the back-end runs the countdown)', async () => {
    const { deps, dialer, deliveries } = await harness('automatic');
    const report = await runPacingTick(deps, START);
    expect(report.dialed).toBe(2);
    expect(dialer.handed.map((r) => r.representativeId).sort()).toEqual([REP_A, REP_B]);
    expect((await deliveries.inFlight('e')).every((o) => o.offeredUntil === undefined)).toBe(true);
  });
});
