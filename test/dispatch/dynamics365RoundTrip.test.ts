import { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataverseStandIn, startDataverseStandIn } from '../../dev/dataverse/dataverseStandIn.js';
import { buildContactBatches, publishContactBatches } from '../../src/bus/publishContactBatches.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { Dynamics365Dialer } from '../../src/dialers/dynamics365/dynamics365Dialer.js';
import { LocalStandInCredential } from '../../src/dialers/dynamics365/localStandInCredential.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import { describeEngagementStatus } from '../../src/dispatch/engagementStatus.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { type OutcomeDeps, recordOutcome } from '../../src/dispatch/recordOutcome.js';
import { OUTCOME_LOOKBACK_MS, type PacingTickDeps, runPacingTick } from '../../src/dispatch/runPacingTick.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { type EngagementCatalog, parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { planDeliveries } from '../../src/planning/planDeliveries.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { RejectedMessageStore } from '../../src/store/dispatch/rejectedMessageStore.js';
import { TableDeliveryRefStore } from '../../src/store/dynamics365/tableDeliveryRefStore.js';
import { TableThrottleStore } from '../../src/store/dynamics365/tableThrottleStore.js';
import { mobileEngagementEntry } from '../support/engagements.js';
import { startBroker } from '../support/serviceBus.js';
import { testTables } from '../support/tables.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const CONFIG_ID = '47089bbe-deb7-4f11-b8e6-000d3a36a6b3';
const TOKEN_KEY = 'test-only-stand-in-key-0123456789';
const TICK_MS = 5_000;
const allDay = [{ start: '00:00', end: '24:00' }];
const days = { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay };

const catalog: EngagementCatalog = parseEngagementFile({
  queues: [
    {
      name: 'q',
      operatingHours: { timeZone: 'UTC', days },
      representatives: Array.from({ length: 5 }, (_, i) => ({ userId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` })),
    },
  ],
  engagements: [
    mobileEngagementEntry('e', 'q', {
      name: 'E',
      dynamicsConfigId: CONFIG_ID,
      dialMode: { mode: 'progressive', maxCallsPerRepresentative: 2 },
      reattempts: { on: ['NoAnswer', 'Busy'], maxAttempts: 3, waitMinutes: 1, relativePriority: 'same' },
    }),
  ],
});

/** Contacts: even ones plain (bulk), odd ones with an attribute (single CCaaS_CreateProactiveDelivery). */
function planned(n: number) {
  const engagement = catalog.engagements.get('e');
  const queue = catalog.queues.get('q');
  if (engagement === undefined || queue === undefined) throw new Error('fixture');
  return planDeliveries({
    engagement,
    queue,
    triggerId: 't-d365',
    now: START,
    state: { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined },
    contacts: Array.from({ length: n }, (_, i) => ({
      source: `event:${i}`,
      contact: contactInputSchema.parse({
        contactId: `contact-${i}`,
        firstName: 'Ada',
        lastName: `Lovelace${i}`,
        phones: { mobile: `+1212555${String(1000 + i)}` },
        ...(i % 2 === 1 ? { attributes: { segment: 'renewals' } } : {}),
        windows: [{ start: new Date(START).toISOString(), end: new Date(START + 8 * 3_600_000).toISOString() }],
      }),
    })),
  }).planned;
}

type Broker = Awaited<ReturnType<typeof startBroker>>;
let broker: Broker;
beforeAll(async () => {
  broker = await startBroker([
    { name: 'batches', duplicateDetection: true },
    { name: 'batches-push', duplicateDetection: true },
  ]);
});
afterAll(async () => broker.stop());

interface RoundTrip {
  clock: VirtualClock;
  standIn: DataverseStandIn;
  dialer: Dynamics365Dialer;
  deliveries: DeliveryStore;
  outcomes: OutcomeStore;
  ledger: FrequencyLedgerStore;
  deps: PacingTickDeps;
  outcomeDeps: OutcomeDeps;
  logs: string[];
  stop(): Promise<void>;
}

/** The app's dispatch and pacing against the stand-in, whose calls go through the telephony simulator; all on one virtual clock. */
async function roundTrip(throttle?: { everyNth: number; retryAfterSeconds: number }): Promise<RoundTrip> {
  const tables = testTables();
  const clock = new VirtualClock(START);
  const now = () => clock.now();
  const simulator = new TelephonySimulator({
    seed: 11,
    clock,
    engagements: [...catalog.engagements.values()],
    queues: [...catalog.queues.values()],
    profile: { liveAnswer: 0.5, answeringMachine: 0.1, busy: 0.2, invalidAddress: 0.05, callFailed: 0.05, handleSeconds: { mean: 40, sigma: 0.3 } },
  });
  const reports = new Map<string, (end: { result: string; at: string; sipCode?: number }) => void>();
  simulator.onCallEvent((event) => {
    reports.get(event.deliveryId)?.({ result: event.result, at: event.at, ...(event.sipCode === undefined ? {} : { sipCode: event.sipCode }) });
  });
  let rowIds = 0;
  const standIn = await startDataverseStandIn({
    tokenKey: TOKEN_KEY,
    now,
    // Row ids the simulator draws each call's fate from: the same calls, and outcomes, every run.
    newId: () => `00000000-0000-4000-8000-${String(++rowIds).padStart(12, '0')}`,
    ...(throttle === undefined ? {} : { throttle }),
    configs: [
      {
        msdyn_proactive_engagement_configid: CONFIG_ID,
        msdyn_name: 'E',
        msdyn_dial_mode: 'Progressive',
        msdyn_primary_queue: 'q',
        msdyn_max_calls_per_representative: 2,
        engagementId: 'e',
      },
    ],
    telephony: {
      // D365 dials: the stand-in hands each delivery row to the telephony simulator as a call.
      place(call, report) {
        reports.set(call.deliveryRowId, report);
        void simulator.dial([
          {
            deliveryId: call.deliveryRowId,
            attempt: 1,
            engagementId: call.engagementId,
            priority: 1,
            contact: { contactId: call.uniqueIdentifier, phones: [{ type: 'mobile', e164: call.phone }], timeZone: 'UTC', attributes: {}, windows: [] },
          },
        ]);
      },
      close: () => simulator.close(),
    },
  });
  const dialer = new Dynamics365Dialer({
    orgUrl: standIn.url,
    credential: new LocalStandInCredential(TOKEN_KEY, now),
    refStore: new TableDeliveryRefStore(tables),
    throttleStore: new TableThrottleStore(tables, standIn.url),
    bulkChunkSize: 5,
    now,
    random: () => 0.5,
    retry: { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 4_000, maxTotalMs: 30_000, requestTimeoutMs: 10_000 },
    // One Dataverse request in flight at a time, so that a wait moving the shared virtual clock is exactly
    // a wait. With several in flight, their waits (instant in real time) would add up on the one clock
    // (four 10 s Retry-Afters = 40 s, overrunning every other request's budget), and which request saw
    // which virtual time would follow how the machine happened to schedule them: the run would depend on
    // the machine's load. The dialer's nock tests run with the default concurrency of 4.
    concurrency: 1,
    // Waits between tries pass on the virtual clock, so a 10 s Retry-After is honoured without sleeping.
    sleep: (ms) => {
      clock.advanceBy(ms);
      return Promise.resolve();
    },
  });
  const deliveries = new DeliveryStore(tables);
  const outcomes = new OutcomeStore(tables, now);
  const ledger = new FrequencyLedgerStore(tables);
  const doNotContact = new DoNotContactStore(tables, 0);
  const pending = new PendingContactStore(tables);
  const outcomeDeps: OutcomeDeps = { catalog, deliveries, outcomes, ledger, doNotContact, pending, clock: now };
  const logs: string[] = [];
  const deps: PacingTickDeps = {
    catalog,
    deliveries,
    outcomes,
    recentOutcomes: new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS),
    stateStore: new PacingStateStore(tables),
    leases: new PacingLeaseStore(tables, 'd365-owner'),
    pending,
    doNotContact,
    ledger,
    dialer,
    presence: simulator,
    leaseMs: 30_000,
    log: (line) => logs.push(line),
    record: (event) => recordOutcome(outcomeDeps, event),
    reconcileIntervalMs: 10_000,
  };
  return { clock, standIn, dialer, deliveries, outcomes, ledger, deps, outcomeDeps, logs, stop: () => standIn.stop() };
}

/** Trigger -> contact batches on the broker -> the contact-batches handler stores the deliveries. */
async function intake(rt: RoundTrip, queue: string, count: number): Promise<string[]> {
  const engagement = catalog.engagements.get('e');
  if (engagement === undefined) throw new Error('fixture');
  const contacts = planned(count);
  const sender = broker.client.createSender(queue);
  await publishContactBatches(
    sender,
    buildContactBatches({ engagement, triggerId: 't-d365', planned: contacts, maxContacts: 10, maxBodyBytes: 200_000, now: START }),
  );
  await sender.close();
  const receiver = broker.client.createReceiver(queue);
  let stored = 0;
  // Until every batch is stored (a busy broker may answer a receive empty); the test's timeout bounds it.
  while (stored < count) {
    const messages = await receiver.receiveMessages(50, { maxWaitTimeInMs: 2_000 });
    if (messages.length === 0) continue;
    const result = await storeContactBatches(
      {
        deliveries: rt.deliveries,
        rejected: new RejectedMessageStore(testTables()),
        knownEngagement: (id) => catalog.engagements.has(id),
        queueName: queue,
        clock: () => rt.clock.now(),
      },
      messages.map((m) => m.body as unknown),
      messages.map((m) => ({ messageId: String(m.messageId), enqueuedTimeUtc: m.enqueuedTimeUtc?.toISOString(), deliveryCount: m.deliveryCount })),
      new InvocationContext({ functionName: 'contactBatches', logHandler: () => undefined }),
    );
    stored += result.stored;
    for (const m of messages) await receiver.completeMessage(m);
  }
  await receiver.close();
  return contacts.map((c) => c.contact.deliveryId);
}

async function states(rt: RoundTrip, ids: readonly string[]) {
  return Promise.all(ids.map(async (id) => (await rt.deliveries.get('e', id))?.state));
}

describe('Dynamics 365 round trip on the local stand-in', () => {
  it('submissions, outcomes polled, reattempts: through a 429 storm and a 5xx burst, 0 lost, 0 submitted twice, all terminal', async () => {
    const rt = await roundTrip({ everyNth: 3, retryAfterSeconds: 10 });
    try {
      const ids = await intake(rt, 'batches', 30);
      expect(ids).toHaveLength(30);
      let sawThrottleStatus = false;
      for (let tick = 0; tick < 1_000; tick++) {
        if (tick === 4) rt.standIn.failNext(6, 503);
        await runPacingTick(rt.deps, rt.clock.now());
        if (!sawThrottleStatus) {
          const status = await describeEngagementStatus(
            { ...rt.deps, stateStore: rt.deps.stateStore, dialer: rt.dialer },
            catalog.engagements.get('e')!,
            rt.clock.now(),
          );
          sawThrottleStatus = status.throttle?.message.startsWith('throttled by Dynamics 365 until ') === true;
        }
        rt.clock.advanceBy(TICK_MS);
        if (tick % 12 === 11 && (await states(rt, ids)).every((s) => s === 'done' || s === 'rejected')) break;
      }

      // Every delivery reached a final state (none lost, none stuck in flight).
      const finalStates = await states(rt, ids);
      expect(finalStates.filter((s) => s !== 'done' && s !== 'rejected')).toEqual([]);
      expect(finalStates).toHaveLength(30);
      // The storm and the burst happened, and both paths were used.
      expect(rt.standIn.stats.requests.throttled).toBeGreaterThan(3);
      expect(rt.standIn.stats.requests.faults).toBe(6);
      expect(rt.standIn.stats.creates.single).toBeGreaterThan(0);
      expect(sawThrottleStatus).toBe(true);
      // No (delivery, attempt) was created twice in Dynamics 365: one row per RequestId, one per (batch, contact).
      const keys = rt.standIn.rows.map((r) => (r.msdyn_tracking_id !== null ? `r:${r.msdyn_tracking_id}` : `b:${r.msdyn_batch_id}:${r.msdyn_contact_id}`));
      expect(new Set(keys).size).toBe(keys.length);
      // And every row D365 dialed came back as exactly one recorded outcome.
      const recorded = (await rt.outcomes.since('e', 0)).events;
      expect(recorded).toHaveLength(rt.standIn.rows.length);
      expect(new Set(recorded.map((e) => `${e.deliveryId}#${e.attempt}`)).size).toBe(recorded.length);
      // Reattempts happened (NoAnswer / Busy), and only for those results.
      const retried = recorded.filter((e) => e.attempt > 1);
      expect(retried.length).toBeGreaterThan(0);
      for (const e of retried) {
        const previous = recorded.find((p) => p.deliveryId === e.deliveryId && p.attempt === e.attempt - 1);
        expect(['NoAnswer', 'Busy']).toContain(previous?.result);
      }
    } finally {
      await rt.stop();
    }
  }, 120_000);

  it('bulk submissions (plain, windowless deliveries) come back matched to (delivery, attempt) through the 429 storm', async () => {
    const rt = await roundTrip({ everyNth: 3, retryAfterSeconds: 10 });
    try {
      const requests = Array.from({ length: 12 }, (_, i) => ({
        deliveryId: `bulk-${i}`,
        attempt: 1 + (i % 2),
        engagementId: 'e',
        dynamicsConfigId: CONFIG_ID,
        priority: 1,
        contact: {
          contactId: `bulk-contact-${i}`,
          firstName: 'Ada',
          lastName: 'L',
          phones: [{ type: 'mobile' as const, e164: `+1212555${2000 + i}` }],
          timeZone: 'UTC',
          attributes: {},
          windows: [],
        },
      }));
      let submissions;
      for (let tries = 0; submissions === undefined && tries < 10; tries++) {
        submissions = await rt.dialer.dial(requests).catch(() => {
          rt.clock.advanceBy(10_000);
          return undefined;
        });
      }
      expect(submissions?.every((s) => s.status === 'accepted' && s.backendRef.startsWith('bulk:'))).toBe(true);
      expect(rt.standIn.stats.creates).toEqual({ single: 0, bulk: 3 });
      rt.clock.advanceBy(30 * 60_000);
      const inFlight = requests.map((r) => ({ engagementId: 'e', deliveryId: r.deliveryId, attempt: r.attempt, since: START }));
      let events;
      for (let tries = 0; events === undefined && tries < 10; tries++) {
        events = await rt.dialer.pollOutcomes(inFlight, rt.clock.now()).catch(() => {
          rt.clock.advanceBy(10_000);
          return undefined;
        });
      }
      expect(events?.map((e) => `${e.deliveryId}#${e.attempt}`).sort()).toEqual(requests.map((r) => `${r.deliveryId}#${r.attempt}`).sort());
      expect(rt.standIn.stats.requests.throttled).toBeGreaterThan(0);
    } finally {
      await rt.stop();
    }
  }, 60_000);

  it('an outcome pushed to /api/call-events while a poll is reading the same attempt counts once', async () => {
    const rt = await roundTrip();
    try {
      const ids = await intake(rt, 'batches-push', 2);
      for (let tick = 0; tick < 200 && rt.standIn.rows.filter((r) => r.msdyn_status === 'Complete').length === 0; tick++) {
        await runPacingTick({ ...rt.deps, reconcileIntervalMs: Number.MAX_SAFE_INTEGER }, rt.clock.now());
        rt.clock.advanceBy(TICK_MS);
      }
      const inFlight = (await rt.deliveries.inFlight('e')).filter((r) => r.state === 'submitted').map((r) => ({ engagementId: 'e', ...r }));
      const polled = await rt.dialer.pollOutcomes(inFlight, rt.clock.now());
      expect(polled.length).toBeGreaterThan(0);
      const event = polled[0]!;
      // The flow's push lands first, then the poll's copy of the same attempt.
      expect(await recordOutcome(rt.outcomeDeps, event)).toMatchObject({ status: 'recorded' });
      expect(await recordOutcome(rt.outcomeDeps, event)).toEqual({ status: 'duplicate' });
      const recorded = (await rt.outcomes.since('e', 0)).events.filter((e) => e.deliveryId === event.deliveryId);
      expect(recorded).toHaveLength(1);
      const contactId = (await rt.deliveries.get('e', event.deliveryId))?.contact.contactId ?? '';
      expect(((await rt.ledger.recent([contactId], rt.clock.now())).get(contactId) ?? []).length).toBeLessThanOrEqual(1);
      expect(ids).toContain(event.deliveryId);
    } finally {
      await rt.stop();
    }
  }, 60_000);
});
