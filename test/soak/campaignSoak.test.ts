import { InvocationContext } from '@azure/functions';
import type { ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { contactInputSchema, type ContactInput } from '../../src/contacts/contactInput.js';
import type { DialerPort, DialRequest, DialSubmission } from '../../src/dialers/dialerPort.js';
import { TelephonySimulator } from '../../src/dialers/simulator/telephonySimulator.js';
import { VirtualClock } from '../../src/dialers/simulator/virtualClock.js';
import { countsAsEngagement } from '../../src/dispatch/decideReattempt.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { recordOutcome, type OutcomeDeps } from '../../src/dispatch/recordOutcome.js';
import { DIAL_RECOVERY_MS, OUTCOME_LOOKBACK_MS, runPacingTick, type PacingTickDeps } from '../../src/dispatch/runPacingTick.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { IntakeService, type AcceptedTrigger } from '../../src/intake/intakeService.js';
import { DELIVERY_GRACE_MS, LONGEST_CALL_MS } from '../../src/pacing/nextCallable.js';
import { CALLBACK_SEARCH_MS, CALLBACK_WINDOW_MS } from '../../src/dispatch/callbackWindows.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore, isTerminal } from '../../src/store/dispatch/deliveryStore.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { RejectedMessageStore } from '../../src/store/dispatch/rejectedMessageStore.js';
import { startBroker } from '../support/serviceBus.js';
import { testTables } from '../support/tables.js';

/*
 * A campaign run for simulated days on the real dispatch shell: intake through IntakeService onto the
 * local Service Bus broker, the contact-batch handler storing into Azurite, pacing ticks, the telephony
 * simulator on a virtual clock and the one outcome recorder. Every rule is checked by an oracle of its
 * own (luxon local times, the test's own do-not-contact and frequency books), not by the product's code.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Friday 30 October 2026: US daylight saving time ends on Sunday 1 November at 02:00 local. */
const START = Date.parse('2026-10-30T00:00:00Z');
const DAYS = 3;
const TICK_MS = 30_000;
/** Longest jump of the clock when nothing is callable: the sweep still ends rows within their grace. */
const MAX_IDLE_JUMP_MS = HOUR;
/** CI runs a thousand contacts (about 80 s here); `SOAK_CONTACTS=20000` runs the full proof (see docs/decisions.md and docs/lifecycle.md). */
const CONTACTS = Number(process.env.SOAK_CONTACTS ?? 1_000);
const PAGE_SIZE = 1_000;

const ZONES = [
  { zone: 'America/New_York', mobile: '+1212555', home: '+1718555' },
  { zone: 'America/Chicago', mobile: '+1312555', home: '+1773555' },
  { zone: 'America/Denver', mobile: '+1303555', home: '+1720555' },
  { zone: 'America/Phoenix', mobile: '+1602555', home: '+1480555' },
  { zone: 'America/Los_Angeles', mobile: '+1213555', home: '+1310555' },
  { zone: 'America/Anchorage', mobile: '+1907555', home: '+1907556' },
  { zone: 'Pacific/Honolulu', mobile: '+1808555', home: '+1808556' },
  { zone: 'Europe/London', mobile: '+44770090', home: '+44207946' },
  { zone: 'Asia/Kolkata', mobile: '+91987650', home: '+91112345' },
  { zone: 'Australia/Sydney', mobile: '+6141255', home: '+6129876' },
] as const;

const LEGAL = { start: 8, end: 21 };
/** Home phones are not called over lunch, local time (quiet hours per phone type). */
const HOME_QUIET = { start: 12, end: 14 };

const allDay = [{ start: '00:00', end: '24:00' }];
const everyDay = { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay };
const reps = (n: number, offset: number) =>
  Array.from({ length: n }, (_, i) => ({ userId: `00000000-0000-4000-8000-${String(offset + i + 1).padStart(12, '0')}` }));

const common = {
  workstream: 'Outbound voice',
  channel: 'voice',
  type: 'representative-led',
  phoneOrder: ['mobile', 'home'],
  quietHours: { mobile: [], home: [{ start: '12:00', end: '14:00' }] },
  legalHours: { start: '08:00', end: '21:00' },
  timeZonePolicy: 'contact-else-utc',
  frequencyLimits: { perDay: 1 },
  reattempts: { on: ['NoAnswer', 'Busy', 'AnsweringMachine'], maxAttempts: 3, waitMinutes: 90 },
  rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 50 }],
};

const catalog = parseEngagementFile({
  queues: [
    { name: 'renewals-q', operatingHours: { timeZone: 'UTC', days: everyDay }, representatives: reps(12, 0) },
    { name: 'billing-q', operatingHours: { timeZone: 'UTC', days: everyDay }, representatives: reps(14, 100) },
  ],
  engagements: [
    {
      ...common,
      id: 'renewals',
      name: 'Renewals',
      routing: { primaryQueue: 'renewals-q' },
      dialMode: { mode: 'progressive', maxCallsPerRepresentative: 1 },
      callOrder: { kind: 'fifo' },
    },
    {
      ...common,
      id: 'billing',
      name: 'Billing',
      routing: { primaryQueue: 'billing-q' },
      dialMode: { mode: 'predictive' },
      callOrder: { kind: 'earliest-scheduled' },
    },
  ],
});

/** A seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Person {
  readonly input: ContactInput;
  readonly zone: string;
}

/** Contacts in every zone, each with windows that open anywhere over the days: a page is not sorted by window. */
function population(n: number): Person[] {
  const rnd = random(11);
  return Array.from({ length: n }, (_, i) => {
    const { zone, mobile, home } = ZONES[i % ZONES.length] ?? ZONES[0];
    const start = START + Math.floor(rnd() * (DAYS - 0.5) * DAY);
    const length = (4 + Math.floor(rnd() * 28)) * HOUR;
    const end = Math.min(start + length, START + DAYS * DAY - 2 * HOUR);
    // Four digits after each zone prefix: up to 100,000 contacts with numbers of their own.
    const digits = String(Math.floor(i / ZONES.length) % 10_000).padStart(4, '0');
    const phones: Record<string, string> = { mobile: `${mobile}${digits}` };
    if (rnd() < 0.4) phones.home = `${home}${digits}`;
    const input = contactInputSchema.parse({
      contactId: `c${i}`,
      firstName: 'Ada',
      timeZone: zone,
      phones,
      windows: [{ start: new Date(start).toISOString(), end: new Date(Math.max(end, start + HOUR)).toISOString() }],
    });
    return { input, zone };
  });
}

/** The sender intake publishes with, noting when each message becomes receivable. */
class NotingSender {
  readonly dueAt: number[] = [];
  constructor(
    private readonly sender: ServiceBusSender,
    private readonly clock: VirtualClock,
  ) {}
  get proxy(): ServiceBusSender {
    const dueAt = this.dueAt;
    const clock = this.clock;
    return new Proxy(this.sender, {
      get(target, key, receiver) {
        if (key === 'sendMessages') {
          return async (batch: { count?: number } | ServiceBusMessage[]) => {
            const count = Array.isArray(batch) ? batch.length : (batch.count ?? 1);
            for (let i = 0; i < count; i++) dueAt.push(clock.now());
            return target.sendMessages(batch as ServiceBusMessage[]);
          };
        }
        if (key === 'scheduleMessages') {
          return async (messages: ServiceBusMessage[], at: Date) => {
            for (let i = 0; i < messages.length; i++) dueAt.push(at.getTime());
            return target.scheduleMessages(messages, at);
          };
        }
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}

/** The dialer in front of the simulator: keeps every hand-over for the oracles, and crashes when told to. */
class ObservedDialer implements DialerPort {
  readonly name = 'simulator' as const;
  readonly handed: { at: number; request: DialRequest }[] = [];
  crash: 'before-hand-over' | 'after-hand-over' | undefined;
  crashes = 0;
  constructor(
    readonly simulator: TelephonySimulator,
    private readonly clock: VirtualClock,
  ) {}
  reconcile: TelephonySimulator['reconcile'] = (calls) => this.simulator.reconcile(calls);
  async dial(requests: readonly DialRequest[]): Promise<DialSubmission[]> {
    if (this.crash === 'before-hand-over') {
      this.crash = undefined;
      this.crashes++;
      throw new Error('process crashed between the claim and the dial');
    }
    for (const request of requests) this.handed.push({ at: this.clock.now(), request });
    const submissions = await this.simulator.dial(requests);
    if (this.crash === 'after-hand-over') {
      this.crash = undefined;
      this.crashes++;
      throw new Error('process crashed between the dial and recording it');
    }
    return submissions;
  }
  cancel(ids: readonly string[]): Promise<void> {
    return this.simulator.cancel(ids);
  }
  activeCalls(engagementId: string) {
    return this.simulator.activeCalls(engagementId);
  }
}

function localHour(at: number, zone: string): number {
  const local = DateTime.fromMillis(at, { zone });
  return local.hour + local.minute / 60 + local.second / 3600;
}

let broker: Awaited<ReturnType<typeof startBroker>>;
const clock = new VirtualClock(START);
beforeAll(async () => {
  broker = await startBroker([{ name: 'batches', duplicateDetection: true, lockDuration: 'PT5M' }], { clock });
});
afterAll(async () => broker.stop());

describe('campaign soak', () => {
  it(
    `${CONTACTS} contacts in ${ZONES.length} zones over ${DAYS} simulated days across a DST change: every delivery ends and no calling rule is broken`,
    async () => {
      const wallStart = performance.now();
      /** Storage calls by kind (printed: what a tick and a call cost the table service). */
      const storageCalls = new Map<string, number>();
      const tables = testTables((call) => {
        const kind = `${call.table} ${call.query ? 'query' : call.method}`;
        storageCalls.set(kind, (storageCalls.get(kind) ?? 0) + 1);
      });
      const engagements = [...catalog.engagements.values()];
      const simulator = new TelephonySimulator({
        seed: 5,
        clock,
        engagements,
        queues: [...catalog.queues.values()],
        profile: { liveAnswer: 0.25, answeringMachine: 0.15, busy: 0.05, invalidAddress: 0.02, callFailed: 0.01 },
      });
      const dialer = new ObservedDialer(simulator, clock);
      const deliveries = new DeliveryStore(tables);
      const outcomes = new OutcomeStore(tables, () => clock.now());
      const doNotContact = new DoNotContactStore(tables, 0);
      const pending = new PendingContactStore(tables);
      const ledger = new FrequencyLedgerStore(tables);
      const outcomeDeps: OutcomeDeps = { catalog, deliveries, outcomes, ledger, doNotContact, pending, clock: () => clock.now() };
      const logs: string[] = [];
      const deps: PacingTickDeps = {
        catalog,
        deliveries,
        outcomes,
        recentOutcomes: new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS),
        stateStore: new PacingStateStore(tables),
        leases: new PacingLeaseStore(tables, 'soak'),
        pending,
        doNotContact,
        ledger,
        dialer,
        presence: simulator,
        // The deployed ratio: PACING_LEASE_SECONDS (30) over six ticks of PACING_SCHEDULE (5 s).
        leaseMs: 6 * TICK_MS,
        record: (event) => recordOutcome(outcomeDeps, event),
        log: (line) => logs.push(line),
      };

      // --- the test's own books ---
      const people = population(CONTACTS);
      const byContact = new Map(people.map((p) => [p.input.contactId, p]));
      /** Do-not-contact keys (phone or contact:<id>) and since when. */
      const dncSince = new Map<string, number>();
      const callbacks = new Map<string, { start: number; end: number }[]>();
      const events: CallEvent[] = [];
      const eventsPerAttempt = new Map<string, number>();
      let lostOutcome: CallEvent | undefined;
      let callbacksAsked = 0;
      let dncDispositions = 0;
      const rnd = random(29);
      const recording: Promise<unknown>[] = [];

      simulator.onCallEvent((raw) => {
        let event = raw;
        const key = `${raw.deliveryId}#${raw.attempt}`;
        eventsPerAttempt.set(key, (eventsPerAttempt.get(key) ?? 0) + 1);
        if (raw.result === 'LiveAnswer') {
          const u = rnd();
          if (u < 0.002) {
            event = { ...raw, disposition: 'do-not-contact' };
            dncDispositions++;
          } else if (u < 0.03) {
            // "Call me back in a few hours": the customer picks a time, not always within calling hours.
            const at = Date.parse(raw.at) + (2 + Math.floor(rnd() * 20)) * HOUR;
            event = { ...raw, disposition: 'callback', callbackAt: new Date(at).toISOString() };
            callbacksAsked++;
          }
        }
        if (lostOutcome === undefined && clock.now() > START + DAY + 5 * HOUR && raw.result === 'NoAnswer') {
          lostOutcome = raw;
          events.push(event);
          return;
        }
        events.push(event);
        recording.push(
          recordOutcome(outcomeDeps, event).then((r) => {
            if (event.disposition === 'do-not-contact' && r.status === 'recorded') {
              const delivery = handedBy.get(event.deliveryId);
              if (delivery !== undefined) {
                dncSince.set(`contact:${delivery.contact.contactId}`, clock.now());
              }
            }
            if (event.disposition === 'callback' && event.callbackAt !== undefined) {
              const cb = Date.parse(event.callbackAt);
              const list = callbacks.get(event.deliveryId) ?? [];
              // The hour asked for, or the first lawful hour within a day when that hour is not (legal hours are checked on their own).
              list.push({ start: cb, end: cb + DAY + HOUR });
              callbacks.set(event.deliveryId, list);
            }
            return r;
          }),
        );
      });
      const handedBy = new Map<string, DialRequest>();

      // --- intake: segment pages through IntakeService onto the broker ---
      const noting = new NotingSender(broker.client.createSender('batches'), clock);
      const intake = new IntakeService({ catalog, doNotContact, ledger, pending, sender: noting.proxy, batchMaxContacts: 250, clock: () => clock.now() });
      // A few numbers were on the do-not-contact list before the campaign.
      for (const p of people.slice(0, 40)) {
        const mobile = p.input.phones.mobile ?? '';
        await doNotContact.add({ phone: mobile }, 'registry', 'soak');
        dncSince.set(mobile, START);
      }
      const accepted: AcceptedTrigger[] = [];
      const renewalsPeople = people.slice(0, Math.floor(CONTACTS * 0.6));
      // Billing reaches the last 40%, and 3,000 contacts renewals also calls: frequency limits are shared.
      const billingPeople = people.slice(Math.floor(CONTACTS * 0.6) - 3_000);
      for (const [engagementId, list] of [
        ['renewals', renewalsPeople],
        ['billing', billingPeople],
      ] as const) {
        for (let page = 0; page * PAGE_SIZE < list.length; page++) {
          const members = list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
          accepted.push(
            await intake.accept(engagementId, {
              sourceKey: `segment:${engagementId}-seg/run-1/${page}`,
              contacts: members.map((p) => ({ source: `segment:${engagementId}-seg/run-1/${page}`, contact: p.input })),
            }),
          );
        }
      }
      const intakeWall = performance.now() - wallStart;
      const campaignStart = performance.now();

      // --- the contact-batch trigger: the broker delivers, storeContactBatches stores ---
      let received = 0;
      const receiver = broker.client.createReceiver('batches');
      const waiters: { count: number; resolve: () => void }[] = [];
      const subscription = receiver.subscribe(
        {
          async processMessage(message) {
            await storeContactBatches(
              {
                deliveries,
                rejected: new RejectedMessageStore(tables),
                knownEngagement: (id) => catalog.engagements.has(id),
                queueName: 'batches',
                pending,
                clock: () => clock.now(),
              },
              [message.body as unknown],
              [{ messageId: String(message.messageId), enqueuedTimeUtc: message.enqueuedTimeUtc?.toISOString(), deliveryCount: message.deliveryCount }],
              new InvocationContext({ functionName: 'contactBatches', logHandler: () => undefined }),
            );
            received++;
            for (const w of waiters.splice(0)) {
              if (received >= w.count) w.resolve();
              else waiters.push(w);
            }
          },
          async processError(args) {
            logs.push(`receiver: ${args.error.message}`);
          },
        },
        { autoCompleteMessages: true, maxConcurrentCalls: 4 },
      );
      const batchesDue = () => noting.dueAt.filter((at) => at <= clock.now()).length;
      const storedUpTo = (count: number) => (received >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })));

      // --- the campaign ---
      const END = START + DAYS * DAY;
      let ticks = 0;
      /** Where the campaign's wall time goes (printed, never asserted). */
      const wall = { batches: 0, ticks: 0, oracles: 0, nextEvent: 0, callsAndOutcomes: 0 };
      let idleWhileCallable = 0;
      const crashes = { beforeDial: START + 10 * HOUR, afterDial: START + 34 * HOUR };
      const perEngagementDialed = new Map<string, number>();
      const noteHanded = (from: number) => {
        for (const h of dialer.handed.slice(from)) {
          handedBy.set(h.request.deliveryId, h.request);
          perEngagementDialed.set(h.request.engagementId, (perEngagementDialed.get(h.request.engagementId) ?? 0) + 1);
        }
      };
      while (clock.now() < END) {
        if (crashes.beforeDial !== 0 && clock.now() >= crashes.beforeDial) {
          dialer.crash = 'before-hand-over';
          crashes.beforeDial = 0;
        } else if (crashes.afterDial !== 0 && clock.now() >= crashes.afterDial && dialer.crash === undefined) {
          dialer.crash = 'after-hand-over';
          crashes.afterDial = 0;
        }
        let t0 = performance.now();
        await storedUpTo(batchesDue());
        wall.batches += performance.now() - t0;
        const handedBefore = dialer.handed.length;
        const logsBefore = logs.length;
        t0 = performance.now();
        const report = await runPacingTick(deps, clock.now());
        wall.ticks += performance.now() - t0;
        t0 = performance.now();
        ticks++;
        noteHanded(handedBefore);
        // Pacing never idle while a callable row waits and capacity is free.
        let couldDial = dialer.handed.length > handedBefore;
        for (const decision of report.decisions) {
          const free = simulator.availableRepresentatives(decision.queue).length;
          if (free === 0) continue;
          const mine = dialer.handed.slice(handedBefore).filter((h) => h.request.engagementId === decision.engagementId).length;
          const blocked = decision.status !== 'running' || decision.boundBy.startsWith('rule:');
          if (blocked || mine > 0 || decision.inputs.inFlight > 0) {
            // Not a moment the oracle judges; the next tick comes soon while pacing saw rows to call.
            couldDial ||= decision.inputs.pending > 0;
            continue;
          }
          // The oracle's own read of the queue, not pacing's count.
          const callableRow = await firstCallableRow(deliveries, decision.engagementId, clock.now());
          const callable = callableRow !== undefined;
          couldDial ||= callable;
          if (callable) {
            idleWhileCallable++;
            // What pacing saw and did, to diagnose (no contact data: the decision's inputs, the row's key and times).
            const { dialNow, boundBy, status, capacity, effectiveMode, inputs, reason } = decision;
            console.log(
              `idle while callable at ${new Date(clock.now()).toISOString()}: ${free} free; decision ${JSON.stringify({ dialNow, boundBy, status, capacity, effectiveMode, inputs, reason })}; ` +
                `tick ${JSON.stringify({ ...report, decisions: undefined })}; row ${JSON.stringify({ rowKey: callableRow.rowKey, at: new Date(callableRow.at).toISOString(), notBefore: new Date(callableRow.notBefore).toISOString() })}; ` +
                `logs ${JSON.stringify(logs.slice(logsBefore))}`,
            );
          }
        }
        // Advance: the next tick while an engagement could dial (a free representative and a callable
        // row, or calls just placed). Otherwise nothing pacing sees can change before the next thing that
        // happens (a call's next step on the simulator, a waiting row's time, a batch, a claim or hand-over
        // the sweep must look at again), so the clock goes to the first tick at or after it.
        let next = clock.now() + TICK_MS;
        wall.oracles += performance.now() - t0;
        t0 = performance.now();
        if (!couldDial) {
          const known = Math.min(
            clock.nextAt() ?? Infinity,
            ...noting.dueAt.filter((at) => at > clock.now()),
            ...[crashes.beforeDial, crashes.afterDial].filter((at) => at > clock.now()),
            clock.now() + MAX_IDLE_JUMP_MS,
          );
          // The queue and the calls in flight are read only when nothing known comes before the next tick anyway.
          const wake =
            known <= clock.now() + TICK_MS
              ? known
              : Math.min(
                  known,
                  ...(await Promise.all(engagements.map(async (e) => (await deliveries.nextWaitingAt(e.id)) ?? Infinity))),
                  ...(await Promise.all(engagements.map((e) => inFlightDeadline(deliveries, e.id)))),
                );
          next = Math.max(next, START + Math.ceil((Math.min(wake, END) - START) / TICK_MS) * TICK_MS);
        }
        const target = Math.min(next, END);
        wall.nextEvent += performance.now() - t0;
        t0 = performance.now();
        while (clock.now() < target) {
          clock.advanceTo(Math.min(target, clock.now() + TICK_MS));
          await Promise.all(recording.splice(0));
        }
        wall.callsAndOutcomes += performance.now() - t0;
      }
      // After the last window: ticks every 15 minutes through the grace period end what is left. A
      // callback asked on the last day can be offered up to a day later (the first lawful hour), so the
      // campaign runs on, dialing those, until every delivery is terminal or that latest possible window
      // plus the grace has passed.
      const finalDeadline = END + CALLBACK_SEARCH_MS + CALLBACK_WINDOW_MS + DELIVERY_GRACE_MS;
      for (let t = 1; clock.now() < finalDeadline; t++) {
        clock.advanceTo(clock.now() + 15 * MINUTE);
        await Promise.all(recording.splice(0));
        const handedBefore = dialer.handed.length;
        await runPacingTick(deps, clock.now());
        noteHanded(handedBefore);
        ticks++;
        if (t * 15 * MINUTE >= DELIVERY_GRACE_MS && t % 4 === 0 && (await notTerminalRows(tables, engagements)).length === 0) break;
      }
      await Promise.all(recording.splice(0));
      const campaignSeconds = (performance.now() - campaignStart) / 1000;
      await subscription.close();
      await receiver.close();

      // --- the oracles ---
      const states = new Map<string, number>();
      let notTerminal = 0;
      for (const engagement of engagements) {
        const client = await tables.table('Deliveries');
        for await (const e of client.listEntities<{ rowKey: string; state: string }>({
          queryOptions: { filter: `PartitionKey eq '${engagement.id}' and RowKey ge 'd|' and RowKey lt 'd}'`, select: ['RowKey', 'state'] },
        })) {
          const state = e.state as Parameters<typeof isTerminal>[0];
          states.set(`${engagement.id}:${state}`, (states.get(`${engagement.id}:${state}`) ?? 0) + 1);
          if (!isTerminal(state)) notTerminal++;
        }
      }
      // What a delivery left open looks like (state, attempt, its last window's end), to diagnose a failure.
      const leftOpen = (await notTerminalRows(tables, engagements)).slice(0, 10);
      const acceptedTotal = accepted.reduce((n, a) => n + a.accepted, 0);
      const stored = [...states.values()].reduce((a, b) => a + b, 0);

      let outsideWindows = 0;
      let outsideLegal = 0;
      let toDoNotContact = 0;
      const dialsPerLocalDay = new Map<string, number>();
      const handedPerAttempt = new Map<string, number>();
      for (const { at, request } of dialer.handed) {
        const key = `${request.deliveryId}#${request.attempt}`;
        handedPerAttempt.set(key, (handedPerAttempt.get(key) ?? 0) + 1);
        const person = byContact.get(request.contact.contactId);
        if (person === undefined) throw new Error(`unknown contact ${request.contact.contactId}`);
        const windowEnd = Date.parse(request.contact.windows[0]?.end ?? '');
        const requested = [
          ...(person.input.windows ?? []).map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end) })),
          ...(callbacks.get(request.deliveryId) ?? []),
        ];
        for (const phone of request.contact.phones) {
          for (const instant of [at, windowEnd - 1]) {
            const hour = localHour(instant, person.zone);
            if (hour < LEGAL.start || hour >= LEGAL.end) outsideLegal++;
            else if (phone.type === 'home' && hour >= HOME_QUIET.start && hour < HOME_QUIET.end) outsideWindows++;
            else if (!requested.some((w) => instant >= w.start && instant < w.end)) outsideWindows++;
          }
          const since = dncSince.get(phone.e164);
          if (since !== undefined && since <= at) toDoNotContact++;
        }
        const contactDnc = dncSince.get(`contact:${request.contact.contactId}`);
        if (contactDnc !== undefined && contactDnc <= at) toDoNotContact++;
      }
      // Calls that engaged the contact, per contact and local day, across both engagements.
      for (const event of events) {
        if (!countsAsEngagement(event)) continue;
        const request = handedBy.get(event.deliveryId);
        const person = request === undefined ? undefined : byContact.get(request.contact.contactId);
        if (person === undefined) continue;
        const day = `${person.input.contactId}|${DateTime.fromMillis(Date.parse(event.at), { zone: person.zone }).toISODate() ?? ''}`;
        dialsPerLocalDay.set(day, (dialsPerLocalDay.get(day) ?? 0) + 1);
      }
      const overFrequency = [...dialsPerLocalDay.values()].filter((n) => n > 1).length;
      const placedTwice = [...eventsPerAttempt.values()].filter((n) => n > 1).length;
      const abandonment = new Map<string, { abandoned: number; answered: number }>();
      for (const event of events) {
        const a = abandonment.get(event.engagementId) ?? { abandoned: 0, answered: 0 };
        if (event.result === 'Abandoned') a.abandoned++;
        if (event.result === 'LiveAnswer' || event.result === 'Abandoned') a.answered++;
        abandonment.set(event.engagementId, a);
      }
      const abandonmentPercent = Object.fromEntries([...abandonment].map(([id, a]) => [id, a.answered === 0 ? 0 : (100 * a.abandoned) / a.answered]));

      const summary = {
        simulatedDays: (clock.now() - START) / DAY,
        ticks,
        wallSeconds: Math.round((performance.now() - wallStart) / 1000),
        intakeSeconds: Math.round(intakeWall / 1000),
        campaignSeconds: Math.round(campaignSeconds),
        ticksPerSecond: Math.round((10 * ticks) / campaignSeconds) / 10,
        campaignWallSeconds: Object.fromEntries(Object.entries(wall).map(([k, ms]) => [k, Math.round(ms / 100) / 10])),
        contacts: CONTACTS,
        zones: ZONES.length,
        accepted: acceptedTotal,
        skipped: accepted.reduce<Record<string, number>>((acc, a) => {
          for (const [k, v] of Object.entries(a.skipped)) if (v > 0) acc[k] = (acc[k] ?? 0) + v;
          return acc;
        }, {}),
        stored,
        states: Object.fromEntries([...states].sort()),
        notTerminal,
        leftOpen,
        handedOver: dialer.handed.length,
        dialedByEngagement: Object.fromEntries(perEngagementDialed),
        callsPlaced: eventsPerAttempt.size,
        reattempts: [...handedPerAttempt.keys()].filter((k) => !k.endsWith('#1')).length,
        callbacksAsked,
        dncDispositions,
        crashes: dialer.crashes,
        lostOutcome: lostOutcome === undefined ? 0 : 1,
        outsideWindows,
        outsideLegal,
        toDoNotContact,
        overFrequency,
        placedTwice,
        abandonmentPercent,
        idleWhileCallable,
        storageCalls: {
          total: [...storageCalls.values()].reduce((a, b) => a + b, 0),
          perTick: Math.round([...storageCalls.values()].reduce((a, b) => a + b, 0) / ticks),
          byKind: Object.fromEntries([...storageCalls].sort((a, b) => b[1] - a[1])),
        },
      };
      console.log(`campaign soak: ${JSON.stringify(summary, null, 1)}`);

      expect(stored).toBe(acceptedTotal);
      expect(notTerminal).toBe(0);
      expect(dialer.crashes).toBe(2);
      expect(lostOutcome).toBeDefined();
      expect(callbacksAsked).toBeGreaterThan(0);
      expect(dncDispositions).toBeGreaterThan(0);
      expect(outsideLegal).toBe(0);
      expect(outsideWindows).toBe(0);
      expect(toDoNotContact).toBe(0);
      expect(overFrequency).toBe(0);
      expect(placedTwice).toBe(0);
      for (const percent of Object.values(abandonmentPercent)) expect(percent).toBeLessThanOrEqual(3);
      expect(idleWhileCallable).toBe(0);
    },
    Math.max(1_200_000, CONTACTS * 250),
  );
});

async function firstCallableRow(deliveries: DeliveryStore, engagementId: string, now: number) {
  for await (const row of deliveries.ready(engagementId)) if (row.at > now && row.notBefore <= now) return row;
  return undefined;
}

/** When the sweep must next look at a call in flight: a claim left by a crash, or a hand-over without an outcome. */
async function inFlightDeadline(deliveries: DeliveryStore, engagementId: string): Promise<number> {
  const deadlines = (await deliveries.inFlight(engagementId)).map((row) => row.since + (row.state === 'dialing' ? DIAL_RECOVERY_MS : LONGEST_CALL_MS));
  return Math.min(Infinity, ...deadlines);
}

/** Delivery rows not in a terminal state, with what says why (no contact data: state, attempt, last result, its windows' end). */
interface OpenRow {
  readonly engagement: string;
  readonly state: string;
  readonly attempt: unknown;
  readonly lastResult: unknown;
  readonly queueRowKey: unknown;
  readonly updatedAt: unknown;
  readonly lastWindowEnd: string | undefined;
}

async function notTerminalRows(tables: ReturnType<typeof testTables>, engagements: readonly { readonly id: string }[]): Promise<OpenRow[]> {
  const open: OpenRow[] = [];
  const client = await tables.table('Deliveries');
  for (const engagement of engagements) {
    for await (const e of client.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `PartitionKey eq '${engagement.id}' and RowKey ge 'd|' and RowKey lt 'd}'` },
    })) {
      const state = String(e['state']) as Parameters<typeof isTerminal>[0];
      if (isTerminal(state)) continue;
      const contact = typeof e['contact'] === 'string' ? (JSON.parse(e['contact']) as { windows?: { end: string }[] }) : {};
      open.push({
        engagement: engagement.id,
        state,
        attempt: e['attempt'],
        lastResult: e['lastResult'],
        queueRowKey: e['queueRowKey'],
        updatedAt: e['updatedAt'],
        lastWindowEnd: contact.windows?.at(-1)?.end,
      });
    }
  }
  return open;
}
