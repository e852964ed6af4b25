import { InvocationContext } from '@azure/functions';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContactBatches, publishContactBatches } from '../../src/bus/publishContactBatches.js';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import type { DialerPort, DialRequest, DialSubmission } from '../../src/dialers/dialerPort.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { describeEngagementStatus } from '../../src/dispatch/engagementStatus.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { recordOutcome, type OutcomeDeps } from '../../src/dispatch/recordOutcome.js';
import { RejectedMessageStore } from '../../src/store/dispatch/rejectedMessageStore.js';
import { DIAL_RECOVERY_MS, OUTCOME_LOOKBACK_MS, runPacingTick, type PacingTickDeps } from '../../src/dispatch/runPacingTick.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { parseEngagementFile, type EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { planDeliveries } from '../../src/planning/planDeliveries.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { mobileEngagementEntry } from '../support/engagements.js';
import { startBroker } from '../support/serviceBus.js';
import { testTables } from '../support/tables.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const allDay = [{ start: '00:00', end: '24:00' }];
const days = { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay };
const reps = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({ userId: `00000000-0000-4000-8000-${String(offset + i + 1).padStart(12, '0')}` }));

function catalogWith(engagement: Record<string, unknown>, repCount = 3): EngagementCatalog {
  return parseEngagementFile({
    queues: [{ name: 'q', operatingHours: { timeZone: 'UTC', days }, representatives: reps(repCount) }],
    engagements: [mobileEngagementEntry('e', 'q', { name: 'E', ...engagement })],
  });
}

/** A dialer in front of the simulator that counts what reaches it and can fail after handing over (a crash). */
class CountingDialer implements DialerPort {
  readonly name = 'simulator' as const;
  readonly handed = new Map<string, number>();
  failAfterHandOver = false;
  failBeforeHandOver = false;
  constructor(readonly simulator: TelephonySimulator) {}
  async dial(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    if (this.failBeforeHandOver) throw new Error('process crashed between the claim and the hand-over');
    for (const r of requests) this.handed.set(`${r.deliveryId}#${r.attempt}`, (this.handed.get(`${r.deliveryId}#${r.attempt}`) ?? 0) + 1);
    const result = await this.simulator.dial(requests);
    if (this.failAfterHandOver) throw new Error('process crashed after the hand-over, before recording it');
    return result;
  }
  cancel(ids: readonly string[]): Promise<void> {
    return this.simulator.cancel(ids);
  }
  activeCalls(engagementId: string) {
    return this.simulator.activeCalls(engagementId);
  }
}

interface Harness {
  catalog: EngagementCatalog;
  clock: VirtualClock;
  simulator: TelephonySimulator;
  dialer: CountingDialer;
  deliveries: DeliveryStore;
  outcomes: OutcomeStore;
  events: CallEvent[];
  tick(): ReturnType<typeof runPacingTick>;
  /** Advances virtual time, letting outcome recording finish. */
  advance(ms: number): Promise<void>;
  doNotContact: DoNotContactStore;
  deps: PacingTickDeps;
  outcomeDeps: OutcomeDeps;
}

function harness(catalog: EngagementCatalog, profile: Record<string, unknown> = {}): Harness {
  const tables = testTables();
  const clock = new VirtualClock(START);
  const simulator = new TelephonySimulator({ seed: 7, clock, engagements: [...catalog.engagements.values()], queues: [...catalog.queues.values()], profile });
  const dialer = new CountingDialer(simulator);
  const deliveries = new DeliveryStore(tables);
  const outcomes = new OutcomeStore(tables, () => clock.now());
  const doNotContact = new DoNotContactStore(tables, 0);
  const pending = new PendingContactStore(tables);
  const ledger = new FrequencyLedgerStore(tables);
  const outcomeDeps: OutcomeDeps = { catalog, deliveries, outcomes, ledger, doNotContact, pending, clock: () => clock.now() };
  const events: CallEvent[] = [];
  const recording: Promise<unknown>[] = [];
  simulator.onCallEvent((event) => {
    events.push(event);
    recording.push(recordOutcome(outcomeDeps, event));
  });
  const deps: PacingTickDeps = {
    catalog,
    deliveries,
    outcomes,
    recentOutcomes: new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS),
    stateStore: new PacingStateStore(tables),
    leases: new PacingLeaseStore(tables, 'test-owner'),
    pending,
    doNotContact,
    ledger,
    dialer,
    presence: simulator,
    leaseMs: 30_000,
    record: (event) => recordOutcome(outcomeDeps, event),
    log: () => undefined,
  };
  return {
    catalog,
    clock,
    simulator,
    dialer,
    deliveries,
    outcomes,
    events,
    doNotContact,
    deps,
    outcomeDeps,
    tick: () => runPacingTick(deps, clock.now()),
    async advance(ms) {
      const end = clock.now() + ms;
      // Step a second at a time so outcomes recorded in between are visible to the next step.
      while (clock.now() < end) {
        clock.advanceTo(Math.min(end, clock.now() + 1_000));
        await Promise.all(recording.splice(0));
      }
    },
  };
}

function planned(catalog: EngagementCatalog, n: number, prefix = 'c') {
  const engagement = catalog.engagements.get('e');
  const queue = catalog.queues.get('q');
  if (engagement === undefined || queue === undefined) throw new Error('fixture');
  return planDeliveries({
    engagement,
    queue,
    triggerId: `t-${prefix}`,
    now: START,
    state: { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined },
    contacts: Array.from({ length: n }, (_, i) => ({
      source: `event:${prefix}${i}`,
      contact: contactInputSchema.parse({
        contactId: `${prefix}${i}`,
        firstName: 'Ada',
        phones: { mobile: `+1212555${String(1000 + i)}` },
        windows: [{ start: new Date(START).toISOString(), end: new Date(START + 8 * 3_600_000).toISOString() }],
      }),
    })),
  }).planned;
}

const ctx = () => new InvocationContext({ functionName: 'contactBatches', logHandler: () => undefined });

type Broker = Awaited<ReturnType<typeof startBroker>>;
let broker: Broker;
beforeAll(async () => {
  broker = await startBroker([{ name: 'batches', duplicateDetection: true }]);
});
afterAll(async () => broker.stop());

async function publish(queue: string, h: Harness, contacts: ReturnType<typeof planned>, triggerId: string, to: Broker = broker) {
  const engagement = h.catalog.engagements.get('e');
  if (engagement === undefined) throw new Error('fixture');
  const sender = to.client.createSender(queue);
  await publishContactBatches(sender, buildContactBatches({ engagement, triggerId, planned: contacts, maxContacts: 500, maxBodyBytes: 200_000, now: START }));
  await sender.close();
}

async function handle(h: Harness, messages: ServiceBusReceivedMessage[]) {
  return storeContactBatches(
    {
      deliveries: h.deliveries,
      rejected: new RejectedMessageStore(testTables()),
      knownEngagement: (id) => h.catalog.engagements.has(id),
      queueName: 'batches',
      clock: () => h.clock.now(),
    },
    messages.map((m) => m.body as unknown),
    messages.map((m) => ({ messageId: String(m.messageId), enqueuedTimeUtc: m.enqueuedTimeUtc?.toISOString(), deliveryCount: m.deliveryCount })),
    ctx(),
  );
}

/** Ticks every 2 virtual seconds until every delivery has reached a final outcome or time runs out. */
async function runUntilDone(h: Harness, seconds: number) {
  for (let t = 0; t < seconds; t += 2) {
    await h.tick();
    await h.advance(2_000);
  }
}

describe('dispatch with the simulator: effectively once', () => {
  it('a batch redelivered after abandon is stored once, and every delivery is dialed once', async () => {
    const h = harness(catalogWith({}), {
      liveAnswer: 1,
      answeringMachine: 0,
      busy: 0,
      invalidAddress: 0,
      callFailed: 0,
      handleSeconds: { mean: 20, sigma: 0 },
    });
    await publish('batches', h, planned(h.catalog, 6), 't-redelivery');
    const receiver = broker.client.createReceiver('batches');
    const first = await receiver.receiveMessages(10, { maxWaitTimeInMs: 2_000 });
    expect(first).toHaveLength(1);
    expect(await handle(h, first)).toMatchObject({ stored: 6, duplicates: 0 });
    // The host failed after storing (say, a timeout): it abandons, and Service Bus delivers again.
    await receiver.abandonMessage(first[0] as ServiceBusReceivedMessage);
    const again = await receiver.receiveMessages(10, { maxWaitTimeInMs: 2_000 });
    expect(again[0]?.deliveryCount).toBe(1);
    expect(await handle(h, again)).toMatchObject({ stored: 0, duplicates: 6 });
    await receiver.completeMessage(again[0] as ServiceBusReceivedMessage);
    await receiver.close();

    await runUntilDone(h, 240);
    expect([...h.dialer.handed.values()].every((n) => n === 1)).toBe(true);
    expect(h.dialer.handed.size).toBe(6);
    expect(h.events.map((e) => e.result).sort()).toEqual(Array(6).fill('LiveAnswer'));
    const status = await describeEngagementStatus(h.deps, h.catalog.engagements.get('e') ?? (undefined as never), h.clock.now());
    expect(status.counts).toMatchObject({ queued: 0, inFlight: { dialing: 0, submitted: 0 }, resultsLast24h: { LiveAnswer: 6 } });
  });

  it('a message whose lock is lost while it is being stored is stored once when it comes back', async () => {
    const h = harness(catalogWith({}));
    // A broker of its own whose locks run on a clock the test moves: the lock runs out without a wait.
    const lockClock = new VirtualClock(Date.now());
    const lockBroker = await startBroker([{ name: 'short-lock', lockDuration: 'PT2S' }], { clock: lockClock });
    try {
      await publish('short-lock', h, planned(h.catalog, 4, 'lock'), 't-lock', lockBroker);
      // No automatic lock renewal, so the lock really runs out (as when a host stalls past its renewal).
      const receiver = lockBroker.client.createReceiver('short-lock', { maxAutoLockRenewalDurationInMs: 0 });
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
      await handle(h, message === undefined ? [] : [message]);
      lockClock.advanceBy(2_600); // the 2 s lock runs out before the host completes
      await expect(receiver.completeMessage(message as ServiceBusReceivedMessage)).rejects.toMatchObject({ code: 'MessageLockLost' });
      const [back] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3_000 });
      expect(back?.messageId).toBe(message?.messageId);
      expect(await handle(h, back === undefined ? [] : [back])).toMatchObject({ stored: 0, duplicates: 4 });
      await receiver.completeMessage(back as ServiceBusReceivedMessage);
      await receiver.close();
      expect((await h.deliveries.queued('e', 100)).length).toBe(4);
    } finally {
      await lockBroker.stop();
    }
  });

  it('a crash between dial and record: the claim is handed over again with the same attempt and the call is placed once', async () => {
    // Calls ring for two minutes, so they are still up when the stale claims are handed over again.
    const h = harness(catalogWith({}), {
      liveAnswer: 1,
      answeringMachine: 0,
      busy: 0,
      invalidAddress: 0,
      callFailed: 0,
      liveRingSeconds: { mean: 120, sigma: 0 },
      handleSeconds: { mean: 20, sigma: 0 },
    });
    await h.deliveries.storeContacts(
      'e',
      't',
      planned(h.catalog, 3, 'crash').map((p) => p.contact),
      START,
    );
    h.dialer.failAfterHandOver = true;
    expect((await h.tick()).dialed).toBe(0);
    expect((await h.deliveries.inFlight('e')).map((r) => r.state)).toEqual(['dialing', 'dialing', 'dialing']);
    h.dialer.failAfterHandOver = false;
    await h.advance(DIAL_RECOVERY_MS - 2_000);
    await h.tick();
    expect([...h.dialer.handed.values()]).toEqual([1, 1, 1]);
    await h.advance(2_000);
    await h.tick();
    expect([...h.dialer.handed.values()]).toEqual([2, 2, 2]);
    await runUntilDone(h, 240);
    expect(h.events.map((e) => `${e.deliveryId}#${e.attempt}`).sort()).toEqual([...h.dialer.handed.keys()].sort());
    expect(h.events.map((e) => e.result)).toEqual(['LiveAnswer', 'LiveAnswer', 'LiveAnswer']);
    expect((await h.deliveries.inFlight('e')).length).toBe(0);
  });

  it('a crash between claim and hand-over: the back-end gets each attempt once, after the recovery delay', async () => {
    const h = harness(catalogWith({}), {
      liveAnswer: 1,
      answeringMachine: 0,
      busy: 0,
      invalidAddress: 0,
      callFailed: 0,
      handleSeconds: { mean: 20, sigma: 0 },
    });
    await h.deliveries.storeContacts(
      'e',
      't',
      planned(h.catalog, 2, 'claim').map((p) => p.contact),
      START,
    );
    h.dialer.failBeforeHandOver = true;
    await h.tick();
    h.dialer.failBeforeHandOver = false;
    expect(h.dialer.handed.size).toBe(0);
    await runUntilDone(h, 240);
    expect([...h.dialer.handed.values()]).toEqual([1, 1]);
    expect(h.events.map((e) => e.attempt)).toEqual([1, 1]);
  });

  it('two instances ticking at once on one engagement: only the lease holder paces it, and each call is handed over once', async () => {
    const h = harness(catalogWith({}));
    await h.deliveries.storeContacts(
      'e',
      't',
      planned(h.catalog, 3, 'lease').map((p) => p.contact),
      START,
    );
    const other: PacingTickDeps = { ...h.deps, leases: new PacingLeaseStore((h.deps.leases as unknown as { tables: never }).tables, 'other-owner') };
    const [a, b] = await Promise.all([h.tick(), runPacingTick(other, h.clock.now())]);
    expect([a.ran, b.ran].filter(Boolean)).toHaveLength(1);
    expect(h.dialer.handed.size).toBe(3);
  });
});

describe('dispatch outcomes', () => {
  it('no answer is reattempted after the wait, with the next attempt number, until attempts run out', async () => {
    const h = harness(catalogWith({ reattempts: { on: ['NoAnswer'], maxAttempts: 2, waitMinutes: 10 } }), {
      liveAnswer: 0,
      answeringMachine: 0,
      busy: 0,
      invalidAddress: 0,
      callFailed: 0,
    });
    await h.deliveries.storeContacts(
      'e',
      't',
      planned(h.catalog, 1, 'na').map((p) => p.contact),
      START,
    );
    await runUntilDone(h, 60);
    expect(h.events.map((e) => [e.result, e.attempt])).toEqual([['NoAnswer', 1]]);
    expect(await h.deliveries.get('e', h.events[0]?.deliveryId ?? '')).toMatchObject({ state: 'queued', attempt: 2 });
    await runUntilDone(h, 60); // still inside the 10-minute wait
    expect(h.events).toHaveLength(1);
    await h.advance(10 * 60_000);
    await runUntilDone(h, 60);
    expect(h.events.map((e) => [e.result, e.attempt])).toEqual([
      ['NoAnswer', 1],
      ['NoAnswer', 2],
    ]);
    expect(await h.deliveries.get('e', h.events[0]?.deliveryId ?? '')).toMatchObject({ state: 'done', attempt: 2 });
  });

  it('an AI-led engagement with the stop policy stops at the first agent failure and cancels its queue', async () => {
    const catalog = catalogWith({
      type: 'ai-led',
      dialMode: { mode: 'copilot', maxConcurrentCalls: 1 },
      agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
      agentFailurePolicy: { action: 'stop' },
    });
    const h = harness(catalog, {
      liveAnswer: 1,
      answeringMachine: 0,
      busy: 0,
      invalidAddress: 0,
      callFailed: 0,
      botFailure: 1,
      agentLegSeconds: { mean: 5, sigma: 0 },
    });
    await h.deliveries.storeContacts(
      'e',
      't',
      planned(catalog, 5, 'bot').map((p) => p.contact),
      START,
    );
    await runUntilDone(h, 120);
    expect(h.events.filter((e) => e.result === 'BotFailed')).toHaveLength(1);
    const status = await describeEngagementStatus(h.deps, catalog.engagements.get('e') ?? (undefined as never), h.clock.now());
    expect(status.state.status).toBe('stopped');
    expect(status.state.reason).toMatch(/fail/i);
    expect(status.counts.queued).toBe(0);
    const cancelled = await Promise.all(planned(catalog, 5, 'bot').map((p) => h.deliveries.get('e', p.contact.deliveryId)));
    expect(cancelled.filter((d) => d?.state === 'cancelled')).toHaveLength(4);
  });

  it('a do-not-contact disposition puts the contact and its numbers on the list, and repeats change nothing', async () => {
    const h = harness(catalogWith({}));
    const [p] = planned(h.catalog, 1, 'dnc');
    if (p === undefined) throw new Error('fixture');
    await h.deliveries.storeContacts('e', 't', [p.contact], START);
    const [row] = await h.deliveries.queued('e', 1);
    await h.deliveries.claim('e', row ?? (undefined as never), START);
    const event: CallEvent = {
      deliveryId: p.contact.deliveryId,
      attempt: 1,
      engagementId: 'e',
      result: 'LiveAnswer',
      at: new Date(START + 60_000).toISOString(),
      disposition: 'do-not-contact',
    };
    expect(await recordOutcome(h.outcomeDeps, event)).toMatchObject({ status: 'recorded' });
    expect(await recordOutcome(h.outcomeDeps, event)).toEqual({ status: 'duplicate' });
    expect(await h.doNotContact.contains({ phone: p.contact.phones[0]?.e164 ?? '' })).toBe(true);
    expect(await h.doNotContact.contains({ contactId: p.contact.contactId })).toBe(true);
    expect(await h.deliveries.get('e', p.contact.deliveryId)).toMatchObject({ state: 'done', lastResult: 'LiveAnswer' });
  });

  it('limits reached since planning are honoured at dial time: do-not-contact ends it, frequency postpones it', async () => {
    const h = harness(catalogWith({ frequencyLimits: { perDay: 1 } }));
    const contacts = planned(h.catalog, 2, 'late').map((p) => p.contact);
    await h.deliveries.storeContacts('e', 't', contacts, START);
    const [dnc, busy] = contacts;
    if (dnc === undefined || busy === undefined) throw new Error('fixture');
    await h.doNotContact.add({ phone: dnc.phones[0]?.e164 ?? '' }, 'asked elsewhere', 'test');
    // Another engagement reached this contact an hour ago: today's one engagement is used up.
    await h.outcomeDeps.ledger.record(busy.contactId, { at: START - 3_600_000, engagementId: 'other', attemptKey: 'x#1' });
    const report = await h.tick();
    expect(h.dialer.handed.size).toBe(0);
    expect(report.rejected).toBe(1);
    expect(await h.deliveries.get('e', dnc.deliveryId)).toMatchObject({ state: 'rejected', lastResult: 'Cancelled' });
    // Planned windows end at 23:00 UTC, before the limit lifts at midnight: nothing is left to call in.
    expect(await h.deliveries.get('e', busy.deliveryId)).toMatchObject({ state: 'expired', lastResult: 'Expired' });
  });

  it('a frequency limit reached since planning postpones the call to the next local day when a window is left', async () => {
    const h = harness(catalogWith({ frequencyLimits: { perDay: 1 } }));
    const [p] = planned(h.catalog, 1, 'later');
    if (p === undefined) throw new Error('fixture');
    const windows = [{ start: new Date(START).toISOString(), end: new Date(START + 48 * 3_600_000).toISOString() }];
    await h.deliveries.storeContacts('e', 't', [{ ...p.contact, windows, phones: p.contact.phones.map((x) => ({ ...x, windows })) }], START);
    await h.outcomeDeps.ledger.record(p.contact.contactId, { at: START - 60_000, engagementId: 'other', attemptKey: 'y#1' });
    await h.tick();
    expect(h.dialer.handed.size).toBe(0);
    expect(await h.deliveries.get('e', p.contact.deliveryId)).toMatchObject({ state: 'queued', attempt: 1 });
    expect((await h.deliveries.queued('e', 5)).map((q) => new Date(q.notBefore).toISOString())).toEqual(['2026-11-26T00:00:00.000Z']);
  });

  it('a malformed message is set aside with its reason while the rest of the batch is stored', async () => {
    const h = harness(catalogWith({}));
    const rejected = new RejectedMessageStore(testTables());
    const [good] = buildContactBatches({
      engagement: h.catalog.engagements.get('e') ?? (undefined as never),
      triggerId: 't-mixed',
      planned: planned(h.catalog, 2, 'mix'),
      maxContacts: 500,
      maxBodyBytes: 200_000,
      now: START,
    });
    const result = await storeContactBatches(
      { deliveries: h.deliveries, rejected, knownEngagement: (id) => id === 'e', queueName: 'batches' },
      [{ schema: 'contact-batch/v0' }, { ...good?.batch, contacts: [{ contactId: 'x' }] }, good?.batch],
      [
        { messageId: 'm-old', enqueuedTimeUtc: undefined, deliveryCount: 0 },
        { messageId: 'm-bad', enqueuedTimeUtc: undefined, deliveryCount: 0 },
        { messageId: 'm-good', enqueuedTimeUtc: undefined, deliveryCount: 0 },
      ],
      ctx(),
    );
    expect(result).toEqual({ stored: 2, duplicates: 0, rejected: 2 });
    const set = await rejected.list('batches');
    expect(set.map((r) => [r.messageId, r.reason])).toEqual([
      ['m-bad', 'InvalidBody'],
      ['m-old', 'UnsupportedSchema'],
    ]);
    expect(set.find((r) => r.messageId === 'm-bad')?.description).toMatch(/contacts\[0\]\.phones/);
  });
});
