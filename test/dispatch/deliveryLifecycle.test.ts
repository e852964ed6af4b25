import { describe, expect, it } from 'vitest';
import { outcomeDepsOn, pacingTickDepsOn } from '../support/pacingTickDeps.js';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';
import type { DialerPort, DialRequest, DialSubmission } from '../../src/dialers/dialerPort.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import { recordOutcome } from '../../src/dispatch/recordOutcome.js';
import { runPacingTick } from '../../src/dispatch/runPacingTick.js';
import { parseEngagementFile, type EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { LONGEST_CALL_MS } from '../../src/pacing/nextCallable.js';
import { JourneyOutboxStore } from '../../src/store/journeyOutcomes/journeyOutboxStore.js';
import { testTables } from '../support/tables.js';
import { ALL_DAY_UTC, mobileEngagementEntry, plannedMobileContact, representative } from '../support/engagements.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const HOUR = 3_600_000;
const reps = (n: number) => Array.from({ length: n }, (_, i) => representative(i + 1));

function catalog(repCount: number): EngagementCatalog {
  return parseEngagementFile({
    queues: [{ name: 'q', operatingHours: ALL_DAY_UTC, representatives: reps(repCount) }],
    engagements: [
      mobileEngagementEntry('e', 'q', {
        name: 'E',
        callOrder: { kind: 'fifo' },
        customerInsights: { journeyTrigger: { name: 'msdynmkt_proactivecallcompleted' } },
      }),
    ],
  });
}

function contact(i: number, start: number, end: number): PlannedContact {
  return plannedMobileContact(i, start, end);
}

/** Passes calls to the simulator; can lose an outcome or hide the back-end's memory (no reconcile). */
class Dialer implements DialerPort {
  readonly name = 'simulator' as const;
  readonly handed: DialRequest[] = [];
  reconcile?: TelephonySimulator['reconcile'];
  constructor(
    readonly simulator: TelephonySimulator,
    canReconcile: boolean,
  ) {
    if (canReconcile) this.reconcile = (calls) => simulator.reconcile(calls);
  }
  async dial(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    this.handed.push(...requests);
    return this.simulator.dial(requests);
  }
  cancel(ids: readonly string[]): Promise<void> {
    return this.simulator.cancel(ids);
  }
  activeCalls(engagementId: string) {
    return this.simulator.activeCalls(engagementId);
  }
}

function harness(repCount: number, options: { canReconcile?: boolean; lose?: (e: CallEvent) => boolean; profile?: Record<string, unknown> } = {}) {
  const tables = testTables();
  const cat = catalog(repCount);
  const clock = new VirtualClock(START);
  const simulator = new TelephonySimulator({
    seed: 3,
    clock,
    engagements: [...cat.engagements.values()],
    queues: [...cat.queues.values()],
    profile: options.profile ?? {},
  });
  const dialer = new Dialer(simulator, options.canReconcile ?? true);
  const journeyOutbox = new JourneyOutboxStore(tables);
  const outcomeDeps = outcomeDepsOn(tables, cat, () => clock.now(), journeyOutbox);
  const { deliveries, outcomes, pending } = outcomeDeps;
  const recording: Promise<unknown>[] = [];
  simulator.onCallEvent((event) => {
    if (options.lose?.(event) !== true) recording.push(recordOutcome(outcomeDeps, event));
  });
  const deps = pacingTickDepsOn(tables, outcomeDeps, { dialer, presence: simulator, journeyOutbox });
  return {
    clock,
    dialer,
    deliveries,
    outcomes,
    pending,
    journeyOutbox,
    stateStore: deps.stateStore,
    tick: () => runPacingTick(deps, clock.now()),
    async advance(ms: number) {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        clock.advanceTo(Math.min(end, clock.now() + 60_000));
        await Promise.all(recording.splice(0));
      }
    },
  };
}

describe('delivery lifecycle', () => {
  it('a few callable contacts spread through thousands whose windows open hours later are all dialed at once', async () => {
    const h = harness(10, { profile: { liveAnswer: 0, answeringMachine: 0, busy: 0, invalidAddress: 0, callFailed: 0 } });
    const callable = new Set([17, 900, 1_750, 2_400, 2_999]);
    const contacts = Array.from({ length: 3_000 }, (_, i) =>
      callable.has(i) ? contact(i, START - HOUR, START + 4 * HOUR) : contact(i, START + 5 * HOUR, START + 9 * HOUR),
    );
    await h.deliveries.storeContacts('e', 't', contacts, START);
    const report = await h.tick();
    expect(report.dialed).toBe(5);
    // FIFO among the callable rows: the call-order key decides, whatever sits between them.
    expect(h.dialer.handed.map((r) => r.deliveryId)).toEqual(['d-17', 'd-900', 'd-1750', 'd-2400', 'd-2999']);
    // When the later windows open, those rows become callable and are dialed in call order.
    await h.advance(5 * HOUR);
    const later = await h.tick();
    expect(later.dialed).toBe(10);
    expect(h.dialer.handed.slice(5).map((r) => r.deliveryId)).toEqual(['d-0', 'd-1', 'd-2', 'd-3', 'd-4', 'd-5', 'd-6', 'd-7', 'd-8', 'd-9']);
  });

  it('a delivery whose windows all pass is Expired, recorded as an outcome, and its contact released', async () => {
    const h = harness(0);
    await h.pending.reserve('e', [{ contactId: 'c1', triggerId: 't', deliveryId: 'd-1', until: START + 10 * HOUR }], START);
    await h.deliveries.storeContacts('e', 't', [contact(1, START, START + 2 * HOUR)], START);
    await h.tick();
    expect(await h.deliveries.get('e', 'd-1')).toMatchObject({ state: 'queued' });
    await h.advance(2 * HOUR);
    const report = await h.tick();
    expect(report.expired).toBe(1);
    expect(await h.deliveries.get('e', 'd-1')).toMatchObject({ state: 'expired', lastResult: 'Expired' });
    expect((await h.outcomes.since('e', START)).events).toEqual([expect.objectContaining({ deliveryId: 'd-1', result: 'Expired', attempt: 1 })]);
    const after = await h.pending.byEngagement('e', h.clock.now());
    expect(after.pending.has('c1')).toBe(false);
    expect(after.finished.has('d-1')).toBe(true);
    expect(await h.deliveries.queued('e', 10)).toEqual([]);
    // Its journey hears of it once, though no call was placed.
    expect((await h.journeyOutbox.get('e', 'd-1'))?.outcome).toMatchObject({ result: 'Expired', attempts: 0, contactId: 'c1' });
  });

  it('an engagement stopped with a queue: each queued delivery is cancelled, its contact released and its journey told once', async () => {
    const h = harness(0);
    await h.pending.reserve(
      'e',
      [1, 2, 3].map((i) => ({ contactId: `c${i}`, triggerId: 't', deliveryId: `d-${i}`, until: START + 10 * HOUR })),
      START,
    );
    await h.deliveries.storeContacts(
      'e',
      't',
      [1, 2, 3].map((i) => contact(i, START, START + 4 * HOUR)),
      START,
    );
    const stored = await h.stateStore.load();
    const since = new Date(START).toISOString();
    const hold = { status: 'stopped' as const, reason: 'agent failure policy', since };
    await h.stateStore.save({ ...stored.state, engagements: { e: { status: 'stopped', statusSince: since, hold } } }, stored.etag);
    expect((await h.tick()).cancelled).toBe(3);
    expect(await h.tick()).toMatchObject({ cancelled: 0 });
    for (const i of [1, 2, 3]) {
      expect(await h.deliveries.get('e', `d-${i}`)).toMatchObject({ state: 'cancelled', lastResult: 'Cancelled' });
      expect((await h.journeyOutbox.get('e', `d-${i}`))?.outcome).toMatchObject({ result: 'Cancelled', attempts: 0, contactId: `c${i}` });
    }
    expect(await h.journeyOutbox.summary('e')).toMatchObject({ pending: 3, sent: 0, failed: 0 });
    expect((await h.pending.byEngagement('e', h.clock.now())).pending.size).toBe(0);
  });

  it('an outcome lost on its way is reconciled with the back-end after the longest call, and in-flight counts come back down', async () => {
    const h = harness(2, { lose: () => true, profile: { liveAnswer: 0, answeringMachine: 0, busy: 1, invalidAddress: 0, callFailed: 0 } });
    await h.deliveries.storeContacts('e', 't', [contact(1, START, START + 8 * HOUR)], START);
    await h.tick();
    await h.advance(10 * 60_000);
    expect(await h.deliveries.inFlight('e')).toHaveLength(1);
    await h.advance(LONGEST_CALL_MS);
    await h.tick();
    expect(await h.deliveries.get('e', 'd-1')).toMatchObject({ state: 'done', lastResult: 'Busy' });
    expect(await h.deliveries.inFlight('e')).toEqual([]);
  });

  it('a back-end that cannot say what happened: the call is ended as Unknown after the longest call, never dialed again', async () => {
    const h = harness(2, { canReconcile: false, lose: () => true, profile: { liveAnswer: 0, answeringMachine: 0, busy: 1, invalidAddress: 0, callFailed: 0 } });
    await h.deliveries.storeContacts('e', 't', [contact(1, START, START + 8 * HOUR)], START);
    await h.tick();
    await h.advance(LONGEST_CALL_MS);
    const report = await h.tick();
    expect(await h.deliveries.get('e', 'd-1')).toMatchObject({ state: 'done', lastResult: 'Unknown' });
    expect(report.dialed).toBe(0);
    expect(h.dialer.handed).toHaveLength(1);
  });

  it('a claim left by a crash is checked again like a first dial: past its window it expires instead of being handed over', async () => {
    const h = harness(2);
    await h.deliveries.storeContacts('e', 't', [contact(1, START, START + HOUR)], START);
    const [row] = await h.deliveries.queued('e', 1);
    expect(await h.deliveries.claim('e', row!, START)).toBeDefined();
    await h.advance(HOUR);
    const report = await h.tick();
    expect(report.expired).toBe(1);
    expect(h.dialer.handed).toEqual([]);
    expect(await h.deliveries.get('e', 'd-1')).toMatchObject({ state: 'expired' });
  });
});
