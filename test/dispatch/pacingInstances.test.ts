import { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContactBatches, publishContactBatches } from '../../src/bus/publishContactBatches.js';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import type { DialerPort, DialRequest, DialSubmission } from '../../src/dialers/dialerPort.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import { recordOutcome } from '../../src/dispatch/recordOutcome.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { DIAL_RECOVERY_MS, OUTCOME_LOOKBACK_MS, runPacingTick, type PacingTickDeps, type TickReport } from '../../src/dispatch/runPacingTick.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { parseEngagementFile, type EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { planDeliveries } from '../../src/planning/planDeliveries.js';
import { DoNotContactStore, type DoNotContactKey } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import { RejectedMessageStore } from '../../src/store/dispatch/rejectedMessageStore.js';
import type { Tables } from '../../src/store/tables.js';
import { startBroker } from '../support/serviceBus.js';
import { workerTables } from '../store/support/workerTables.js';
import { ALL_DAY_UTC, mobileEngagementEntry, representative } from '../support/engagements.js';
import { outcomeDepsOn } from '../support/pacingTickDeps.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const LEASE_MS = 30_000;
const TICK_MS = 2_000;
const ENGAGEMENTS = ['e1', 'e2', 'e3', 'e4'];
const CONTACTS_PER_ENGAGEMENT = 6;

/** Four engagements, each on a queue of its own with two representatives: four pacing groups. */
function catalog(): EngagementCatalog {
  return parseEngagementFile({
    queues: ENGAGEMENTS.map((id, q) => ({
      name: `q-${id}`,
      operatingHours: ALL_DAY_UTC,
      representatives: [1, 2].map((r) => representative(q * 10 + r)),
    })),
    engagements: ENGAGEMENTS.map((id) => mobileEngagementEntry(id, `q-${id}`)),
  });
}

/** What every instance hands to the one telephony (the shared simulator), counted per (delivery, attempt) and per instance. */
class SharedTelephony {
  readonly handed = new Map<string, number>();
  readonly byInstance = new Map<string, Set<string>>();
  constructor(readonly simulator: TelephonySimulator) {}
  dialerOf(instance: string, crash: { beforeHandOver: boolean }): DialerPort & { activeCalls(id: string): ReturnType<TelephonySimulator['activeCalls']> } {
    return {
      name: 'simulator',
      dial: async (requests: readonly DialRequest[]): Promise<DialSubmission[]> => {
        if (crash.beforeHandOver) throw new Error(`instance ${instance} died between the claim and the hand-over`);
        const engagements = this.byInstance.get(instance) ?? new Set<string>();
        this.byInstance.set(instance, engagements);
        for (const r of requests) {
          const key = `${r.deliveryId}#${r.attempt}`;
          this.handed.set(key, (this.handed.get(key) ?? 0) + 1);
          engagements.add(r.engagementId);
        }
        return this.simulator.dial(requests);
      },
      cancel: (ids) => this.simulator.cancel(ids),
      activeCalls: (id) => this.simulator.activeCalls(id),
    };
  }
}

/** A DoNotContactStore that runs `beforeCheck` once, at the first dial-time check: a tick paused mid-way. */
class PausingDoNotContact extends DoNotContactStore {
  beforeCheck: (() => Promise<void>) | undefined;
  override async contains(key: DoNotContactKey): Promise<boolean> {
    const hook = this.beforeCheck;
    this.beforeCheck = undefined;
    if (hook !== undefined) await hook();
    return super.contains(key);
  }
}

interface Instance {
  readonly name: string;
  readonly deps: PacingTickDeps;
  readonly doNotContact: PausingDoNotContact;
  readonly crash: { beforeHandOver: boolean };
  tick(): Promise<TickReport>;
}

interface World {
  readonly catalog: EngagementCatalog;
  readonly clock: VirtualClock;
  readonly telephony: SharedTelephony;
  readonly events: CallEvent[];
  readonly tables: () => Tables;
  instance(name: string): Instance;
  advance(ms: number): Promise<void>;
  deliveries: DeliveryStore;
}

function world(): World {
  const tables = workerTables();
  const cat = catalog();
  const clock = new VirtualClock(START);
  const simulator = new TelephonySimulator({
    seed: 11,
    clock,
    engagements: [...cat.engagements.values()],
    queues: [...cat.queues.values()],
    profile: { liveAnswer: 1, answeringMachine: 0, busy: 0, invalidAddress: 0, callFailed: 0, handleSeconds: { mean: 8, sigma: 0 } },
  });
  const telephony = new SharedTelephony(simulator);
  const events: CallEvent[] = [];
  const recording: Promise<unknown>[] = [];
  // The telephony reports outcomes to one instance's recorder (any instance's would do: it is idempotent).
  const own = tables();
  const outcomeDeps = outcomeDepsOn(own, cat, () => clock.now());
  simulator.onCallEvent((event) => {
    events.push(event);
    recording.push(recordOutcome(outcomeDeps, event));
  });
  return {
    catalog: cat,
    clock,
    telephony,
    events,
    tables,
    deliveries: outcomeDeps.deliveries,
    instance(name) {
      const t = tables();
      const outcomes = new OutcomeStore(t, () => clock.now());
      const doNotContact = new PausingDoNotContact(t, 0);
      const crash = { beforeHandOver: false };
      const deps: PacingTickDeps = {
        catalog: cat,
        deliveries: new DeliveryStore(t),
        outcomes,
        recentOutcomes: new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS),
        stateStore: new PacingStateStore(t),
        leases: new PacingLeaseStore(t, name),
        pending: new PendingContactStore(t),
        doNotContact,
        ledger: new FrequencyLedgerStore(t),
        dialer: telephony.dialerOf(name, crash),
        presence: simulator,
        leaseMs: LEASE_MS,
        clock: () => clock.now(),
        record: (event) => recordOutcome(outcomeDeps, event),
        log: () => undefined,
      };
      return { name, deps, doNotContact, crash, tick: () => runPacingTick(deps, clock.now()) };
    },
    async advance(ms) {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        clock.advanceTo(Math.min(end, clock.now() + 1_000));
        await Promise.all(recording.splice(0));
      }
    },
  };
}

type Broker = Awaited<ReturnType<typeof startBroker>>;
let broker: Broker;
beforeAll(async () => {
  broker = await startBroker([
    { name: 'batches-split', duplicateDetection: true },
    { name: 'batches-death', duplicateDetection: true },
    { name: 'batches-lost', duplicateDetection: true },
  ]);
});
afterAll(async () => broker.stop());

/** Intake's side: each engagement's contacts planned and published as contact batches on the broker. */
async function publishAll(w: World, queue: string): Promise<void> {
  const sender = broker.client.createSender(queue);
  for (const engagement of w.catalog.engagements.values()) {
    const queueConfig = w.catalog.queues.get(engagement.routing.primaryQueue);
    if (queueConfig === undefined) throw new Error('fixture');
    const triggerId = `t-${engagement.id}`;
    const { planned } = planDeliveries({
      engagement,
      queue: queueConfig,
      triggerId,
      now: START,
      state: { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined },
      contacts: Array.from({ length: CONTACTS_PER_ENGAGEMENT }, (_, i) => ({
        source: `event:${engagement.id}-${i}`,
        contact: contactInputSchema.parse({
          contactId: `${engagement.id}-c${i}`,
          phones: { mobile: `+1212555${String(1000 + ENGAGEMENTS.indexOf(engagement.id) * 100 + i)}` },
          windows: [{ start: new Date(START).toISOString(), end: new Date(START + 8 * 3_600_000).toISOString() }],
        }),
      })),
    });
    await publishContactBatches(sender, buildContactBatches({ engagement, triggerId, planned, maxContacts: 3, maxBodyBytes: 200_000, now: START }));
  }
  await sender.close();
}

/** Both instances' contact-batch triggers compete for the queue's messages, as scaled-out Functions do. */
async function storeFromBroker(w: World, queue: string, instances: readonly Instance[]): Promise<number> {
  let stored = 0;
  const receivers = instances.map(() => broker.client.createReceiver(queue));
  for (;;) {
    const rounds = await Promise.all(
      receivers.map(async (receiver, i) => {
        const messages = await receiver.receiveMessages(2, { maxWaitTimeInMs: 500 });
        if (messages.length === 0) return 0;
        const instance = instances[i];
        if (instance === undefined) return 0;
        const report = await storeContactBatches(
          {
            deliveries: instance.deps.deliveries,
            rejected: new RejectedMessageStore(w.tables()),
            knownEngagement: (id) => w.catalog.engagements.has(id),
            queueName: queue,
            clock: () => w.clock.now(),
          },
          messages.map((m) => m.body as unknown),
          messages.map((m) => ({ messageId: String(m.messageId), enqueuedTimeUtc: m.enqueuedTimeUtc?.toISOString(), deliveryCount: m.deliveryCount })),
          new InvocationContext({ functionName: 'contactBatches', logHandler: () => undefined }),
        );
        for (const m of messages) await receiver.completeMessage(m);
        return report.stored;
      }),
    );
    const got = rounds.reduce((a, b) => a + b, 0);
    stored += got;
    if (got === 0) break;
  }
  await Promise.all(receivers.map((r) => r.close()));
  return stored;
}

/** Every delivery's terminal outcome, from the simulator's own reports. */
function finished(w: World): Map<string, number> {
  const byDelivery = new Map<string, number>();
  for (const e of w.events) byDelivery.set(e.deliveryId, (byDelivery.get(e.deliveryId) ?? 0) + 1);
  return byDelivery;
}

async function tickRounds(w: World, instances: readonly Instance[], rounds: number): Promise<TickReport[][]> {
  const reports: TickReport[][] = [];
  for (let i = 0; i < rounds; i++) {
    reports.push(await Promise.all(instances.map((instance) => instance.tick())));
    await w.advance(TICK_MS);
  }
  return reports;
}

const TOTAL = ENGAGEMENTS.length * CONTACTS_PER_ENGAGEMENT;

describe('two dispatch instances on one Azurite, broker and telephony', () => {
  it('they split the engagements two and two, and every (delivery, attempt) is handed over once', async () => {
    const w = world();
    const [a, b] = [w.instance('a'), w.instance('b')];
    await publishAll(w, 'batches-split');
    expect(await storeFromBroker(w, 'batches-split', [a, b])).toBe(TOTAL);

    // Round 1: each beats and takes what it can; round 2: the one holding more than its share gives it up.
    const reports = await tickRounds(w, [a, b], 45);
    const settled = reports.slice(3);
    for (const [ra, rb] of settled) {
      expect(ra?.engagements).toHaveLength(2);
      expect(rb?.engagements).toHaveLength(2);
      expect([...(ra?.engagements ?? []), ...(rb?.engagements ?? [])].sort()).toEqual(ENGAGEMENTS);
    }
    expect([...w.telephony.handed.values()].every((n) => n === 1)).toBe(true);
    expect(w.telephony.handed.size).toBe(TOTAL);
    expect(finished(w).size).toBe(TOTAL);
    expect([...finished(w).values()].every((n) => n === 1)).toBe(true);
    // Both instances placed calls, each for its own engagements.
    const byA = w.telephony.byInstance.get('a') ?? new Set();
    const byB = w.telephony.byInstance.get('b') ?? new Set();
    expect(byA.size).toBeGreaterThan(0);
    expect(byB.size).toBeGreaterThan(0);
  });

  it('an instance that dies mid-tick (claims made, nothing handed over) has its engagements and claims taken over after the lease runs out, each attempt handed over once', async () => {
    const w = world();
    const [a, b] = [w.instance('a'), w.instance('b')];
    await publishAll(w, 'batches-death');
    expect(await storeFromBroker(w, 'batches-death', [a, b])).toBe(TOTAL);
    await tickRounds(w, [a, b], 3);
    const [[ra, rb] = []] = await tickRounds(w, [a, b], 1);
    const ofA = ra?.engagements ?? [];
    expect(ofA).toHaveLength(2);
    expect(rb?.engagements).toHaveLength(2);

    // a dies in a tick after claiming and before handing over (its next tick with calls to place), and never ticks again.
    a.crash.beforeHandOver = true;
    let stranded: Awaited<ReturnType<DeliveryStore['inFlight']>> = [];
    for (let round = 0; round < 30 && stranded.length === 0; round++) {
      const [dead] = await tickRounds(w, [a, b], 1);
      expect(dead?.[0]?.dialed).toBe(0);
      stranded = (await Promise.all(ofA.map((id) => w.deliveries.inFlight(id)))).flat().filter((row) => row.state === 'dialing');
    }
    expect(stranded.length).toBeGreaterThan(0);

    // b alone: until a's leases run out it keeps its own two; after that it paces all four.
    const before = await b.tick();
    expect([...before.engagements].sort()).toEqual([...(rb?.engagements ?? [])].sort());
    await w.advance(LEASE_MS);
    const after = await b.tick();
    expect([...after.engagements].sort()).toEqual(ENGAGEMENTS);
    await w.advance(Math.max(0, DIAL_RECOVERY_MS - LEASE_MS) + TICK_MS);
    await tickRounds(w, [b], 60);

    for (const row of stranded) expect(w.telephony.handed.get(`${row.deliveryId}#${row.attempt}`)).toBe(1);
    expect([...w.telephony.handed.values()].every((n) => n === 1)).toBe(true);
    expect(finished(w).size).toBe(TOTAL);
    expect([...finished(w).values()].every((n) => n === 1)).toBe(true);
  });

  it('a lease lost mid-tick: the old holder hands nothing over, the new holder does, and each attempt is handed over once', async () => {
    const w = world();
    const [a, b] = [w.instance('a'), w.instance('b')];
    await publishAll(w, 'batches-lost');
    expect(await storeFromBroker(w, 'batches-lost', [a])).toBe(TOTAL);

    // a starts alone and takes every engagement. At its first dial-time check it stalls past its lease (a
    // long GC pause, a slow storage call); b starts meanwhile and takes the expired leases.
    let bReport: TickReport | undefined;
    a.doNotContact.beforeCheck = async () => {
      w.clock.advanceTo(w.clock.now() + LEASE_MS + 1);
      bReport = await b.tick();
    };
    const stalled = await a.tick();

    expect(stalled.engagements).toEqual(ENGAGEMENTS);
    expect(stalled.decisions.some((d) => d.dialNow > 0)).toBe(true);
    expect(bReport?.engagements).toEqual(ENGAGEMENTS);
    expect(bReport?.dialed).toBeGreaterThan(0);
    expect(stalled.dialed).toBe(0);
    expect(w.telephony.handed.size).toBe(bReport?.dialed);
    expect(w.telephony.byInstance.get('a')).toBeUndefined();
    const claimedByA = (await Promise.all(ENGAGEMENTS.map((id) => w.deliveries.inFlight(id)))).flat().filter((row) => row.state === 'dialing');
    expect(claimedByA.length).toBeGreaterThan(0);

    // a's claims from the stalled tick are b's to hand over once they are stale; a takes nothing back while b holds the leases.
    await w.advance(DIAL_RECOVERY_MS);
    const rounds = await tickRounds(w, [b, a], 60);
    for (const [, ra] of rounds) expect(ra?.engagements.length ?? 0).toBeLessThanOrEqual(2);
    for (const row of claimedByA) expect(w.telephony.handed.get(`${row.deliveryId}#${row.attempt}`)).toBe(1);
    expect([...w.telephony.handed.values()].every((n) => n === 1)).toBe(true);
    expect(finished(w).size).toBe(TOTAL);
    expect([...finished(w).values()].every((n) => n === 1)).toBe(true);
  });
});
