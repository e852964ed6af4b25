import type { DialerPort } from '../../src/dialers/dialerPort.js';
import type { PresencePort } from '../../src/presence/presencePort.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { recordOutcome, type OutcomeDeps } from '../../src/dispatch/recordOutcome.js';
import { OUTCOME_LOOKBACK_MS, type PacingTickDeps } from '../../src/dispatch/runPacingTick.js';
import type { JourneyOutboxStore } from '../../src/store/journeyOutcomes/journeyOutboxStore.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import type { Tables } from '../../src/store/tables.js';
import type { EngagementCatalog } from '../../src/engagement/loadEngagementFile.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';

/** The outcome recorder's dependencies on fresh stores over `tables` (do-not-contact filter checked at every call), on `clock`. */
export function outcomeDepsOn(tables: Tables, catalog: EngagementCatalog, clock: () => number, journeyOutbox?: JourneyOutboxStore): OutcomeDeps {
  return {
    ...(journeyOutbox === undefined ? {} : { journeyOutbox }),
    catalog,
    deliveries: new DeliveryStore(tables),
    outcomes: new OutcomeStore(tables, clock),
    ledger: new FrequencyLedgerStore(tables),
    doNotContact: new DoNotContactStore(tables, 0),
    pending: new PendingContactStore(tables),
    clock,
  };
}

/** The pacing tick's dependencies on the same stores as the outcome recorder's, recording through it: one lease owner (`owner` unless named), 30 s leases. */
export function pacingTickDepsOn(
  tables: Tables,
  outcomeDeps: OutcomeDeps,
  parts: {
    readonly dialer: DialerPort;
    readonly presence: PresencePort;
    readonly journeyOutbox?: JourneyOutboxStore;
    readonly log?: (line: string) => void;
    readonly owner?: string;
  },
): PacingTickDeps {
  return {
    catalog: outcomeDeps.catalog,
    deliveries: outcomeDeps.deliveries,
    outcomes: outcomeDeps.outcomes,
    recentOutcomes: new RecentOutcomes(outcomeDeps.outcomes, OUTCOME_LOOKBACK_MS),
    stateStore: new PacingStateStore(tables),
    leases: new PacingLeaseStore(tables, parts.owner ?? 'owner'),
    pending: outcomeDeps.pending,
    journeyOutbox: parts.journeyOutbox,
    doNotContact: outcomeDeps.doNotContact,
    ledger: outcomeDeps.ledger,
    dialer: parts.dialer,
    presence: parts.presence,
    leaseMs: 30_000,
    record: (event) => recordOutcome(outcomeDeps, event),
    log: parts.log ?? (() => undefined),
  };
}
