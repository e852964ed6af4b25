import { randomUUID } from 'node:crypto';
import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import type { CallEvent } from '../contacts/callEvent.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { PresencePort, QueueMembersPort } from '../presence/presencePort.js';
import { createBackEnd } from './createBackEnd.js';
import { DeliveryStore } from '../store/dispatch/deliveryStore.js';
import { EngagementMetricsStore } from '../store/dispatch/engagementMetricsStore.js';
import type { TickMetricsDeps } from './recordTickMetrics.js';
import type { StatusDeps } from './engagementStatus.js';
import { OutcomeStore } from '../store/dispatch/outcomeStore.js';
import { PacingStateStore } from '../store/dispatch/pacingStateStore.js';
import { PacingLeaseStore } from '../store/dispatch/pacingLeaseStore.js';
import { RecentOutcomes } from './recentOutcomes.js';
import { recordOutcome, type OutcomeDeps, type OutcomeRecording } from './recordOutcome.js';
import { RejectedMessageStore } from '../store/dispatch/rejectedMessageStore.js';
import { JourneyOutboxStore } from '../store/journeyOutcomes/journeyOutboxStore.js';
import { ExportProgressStore } from '../store/segmentExports/exportProgressStore.js';
import { OUTCOME_LOOKBACK_MS, type PacingTickDeps } from './runPacingTick.js';
import type { ContactBatchesDeps } from './storeContactBatches.js';

/** The dispatch capability: what its trigger, timer and HTTP functions use, and what the agent leg shares. */
export interface Dispatch {
  readonly catalog: EngagementCatalog;
  readonly clock: () => number;
  /** Applies an attempt's outcome once: call events, the simulator and the agent leg all record through it. */
  readonly record: (event: CallEvent) => Promise<OutcomeRecording>;
  /** Most call events in one request (CALL_EVENTS_MAX_EVENTS). */
  readonly maxEvents: number;
  /** CALL_EVENTS_SIGNING_SECRET; undefined only outside Azure (settings refuse to start without it there). */
  readonly signingSecret: string | undefined;
  readonly contactBatches: ContactBatchesDeps;
  readonly tick: PacingTickDeps;
  readonly status: StatusDeps;
  readonly stateStore: PacingStateStore;
  /** Representative availability, from the back-end's source (Graph or the simulator). */
  readonly presence: PresencePort;
  readonly queueMembers: QueueMembersPort | undefined;
  /** Per-minute engagement metrics: written after each tick, read by the console. */
  readonly metrics: EngagementMetricsStore;
  readonly tickMetrics: TickMetricsDeps;
  /** The stores the management API acts through (cancel queued deliveries). */
  readonly deliveries: DeliveryStore;
  /** Where a delivery's end is queued for its engagement's journey custom trigger. */
  readonly journeyOutbox: JourneyOutboxStore;
}

export async function composeDispatch(context: CompositionContext): Promise<Composed<Dispatch>> {
  const { settings, catalog, tables, clock, simulatorClock, doNotContact, ledger, pending, log } = await context.use(composeFoundation);
  const deliveries = new DeliveryStore(tables);
  if (settings.CALL_EVENTS_SIGNING_SECRET === undefined) {
    log(
      'call events are not signed: CALL_EVENTS_SIGNING_SECRET is not set, so POST /api/call-events relies on the function key alone (allowed outside Azure only)',
    );
  }
  const outcomes = new OutcomeStore(tables, clock);
  const stateStore = new PacingStateStore(tables);
  // Unique per process: a restarted instance is a new owner, and its old leases simply run out.
  const leases = new PacingLeaseStore(tables, `${process.env['WEBSITE_INSTANCE_ID'] ?? 'local'}-${randomUUID()}`);
  const journeyOutbox = new JourneyOutboxStore(tables);
  const outcomeDeps: OutcomeDeps = { catalog, deliveries, outcomes, ledger, doNotContact, pending, journeyOutbox, clock };
  const record = (event: CallEvent): Promise<OutcomeRecording> => recordOutcome(outcomeDeps, event);
  const metrics = new EngagementMetricsStore(tables);
  const back = createBackEnd({ settings, catalog, tables, simulatorClock, record, log });
  try {
    await back.checkAtStart?.();
  } catch (error) {
    back.close();
    throw error;
  }
  const recentOutcomes = new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS);
  const tick: PacingTickDeps = {
    catalog,
    deliveries,
    outcomes,
    recentOutcomes,
    stateStore,
    pending,
    doNotContact,
    ledger,
    journeyOutbox,
    dialer: back.dialer,
    presence: back.presence,
    ...(back.queueMembers === undefined ? {} : { queueMembers: back.queueMembers }),
    leases,
    leaseMs: settings.PACING_LEASE_SECONDS * 1000,
    clock,
    record,
    log,
  };
  return {
    value: {
      catalog,
      clock,
      record,
      maxEvents: settings.CALL_EVENTS_MAX_EVENTS,
      signingSecret: settings.CALL_EVENTS_SIGNING_SECRET,
      contactBatches: {
        deliveries,
        rejected: new RejectedMessageStore(tables),
        knownEngagement: (id) => catalog.engagements.has(id),
        pending,
        queueName: settings.CONTACT_BATCHES_QUEUE,
        clock,
      },
      tick,
      status: { deliveries, outcomes, stateStore, dialer: back.dialer, exportProgress: new ExportProgressStore(tables), journeyOutbox },
      stateStore,
      presence: back.presence,
      queueMembers: back.queueMembers,
      metrics,
      tickMetrics: { metrics, outcomesOf: (id, now) => recentOutcomes.of(id, now) },
      deliveries,
      journeyOutbox,
    },
    async close() {
      back.close();
      await leases.leave(clock()).catch(() => undefined);
    },
  };
}
