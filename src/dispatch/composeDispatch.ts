import { randomUUID } from 'node:crypto';
import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import type { CallEvent } from '../contacts/callEvent.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { PresencePort, QueueMembersPort } from '../presence/presencePort.js';
import { createBackEnd } from './createBackEnd.js';
import { DeliveryStore } from '../store/dispatch/deliveryStore.js';
import type { StatusDeps } from './engagementStatus.js';
import { OutcomeStore } from '../store/dispatch/outcomeStore.js';
import { PacingStateStore } from '../store/dispatch/pacingStateStore.js';
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
  readonly contactBatches: ContactBatchesDeps;
  readonly tick: PacingTickDeps;
  readonly status: StatusDeps;
  readonly stateStore: PacingStateStore;
  /** Representative availability, from the back-end's source (Graph or the simulator). */
  readonly presence: PresencePort;
  readonly queueMembers: QueueMembersPort | undefined;
}

export async function composeDispatch(context: CompositionContext): Promise<Composed<Dispatch>> {
  const { settings, catalog, tables, clock, simulatorClock, doNotContact, ledger, pending, log } = await context.use(composeFoundation);
  const deliveries = new DeliveryStore(tables);
  const outcomes = new OutcomeStore(tables, clock);
  const stateStore = new PacingStateStore(tables, `${process.env['WEBSITE_INSTANCE_ID'] ?? 'local'}-${randomUUID()}`);
  const journeyOutbox = new JourneyOutboxStore(tables);
  const outcomeDeps: OutcomeDeps = { catalog, deliveries, outcomes, ledger, doNotContact, pending, journeyOutbox, clock };
  const record = (event: CallEvent): Promise<OutcomeRecording> => recordOutcome(outcomeDeps, event);
  const back = createBackEnd({ settings, catalog, tables, simulatorClock, record, log });
  const tick: PacingTickDeps = {
    catalog,
    deliveries,
    outcomes,
    recentOutcomes: new RecentOutcomes(outcomes, OUTCOME_LOOKBACK_MS),
    stateStore,
    pending,
    doNotContact,
    ledger,
    dialer: back.dialer,
    presence: back.presence,
    ...(back.queueMembers === undefined ? {} : { queueMembers: back.queueMembers }),
    leaseMs: settings.PACING_LEASE_SECONDS * 1000,
    log,
  };
  return {
    value: {
      catalog,
      clock,
      record,
      maxEvents: settings.CALL_EVENTS_MAX_EVENTS,
      contactBatches: {
        deliveries,
        rejected: new RejectedMessageStore(tables),
        knownEngagement: (id) => catalog.engagements.has(id),
        queueName: settings.CONTACT_BATCHES_QUEUE,
        clock,
      },
      tick,
      status: { deliveries, outcomes, stateStore, exportProgress: new ExportProgressStore(tables), journeyOutbox },
      stateStore,
      presence: back.presence,
      queueMembers: back.queueMembers,
    },
    async close() {
      back.close();
      await stateStore.releaseLease().catch(() => undefined);
    },
  };
}
