import type { DialerPort } from '../../src/dialers/dialerPort.js';
import type { PresencePort } from '../../src/presence/presencePort.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { recordOutcome, type OutcomeDeps } from '../../src/dispatch/recordOutcome.js';
import { OUTCOME_LOOKBACK_MS, type PacingTickDeps } from '../../src/dispatch/runPacingTick.js';
import type { JourneyOutboxStore } from '../../src/store/journeyOutcomes/journeyOutboxStore.js';
import { PacingLeaseStore } from '../../src/store/dispatch/pacingLeaseStore.js';
import { PacingStateStore } from '../../src/store/dispatch/pacingStateStore.js';
import type { Tables } from '../../src/store/tables.js';

/** The pacing tick's dependencies on the same stores as the outcome recorder's, recording through it: one lease owner, 30 s leases. */
export function pacingTickDepsOn(
  tables: Tables,
  outcomeDeps: OutcomeDeps,
  parts: { readonly dialer: DialerPort; readonly presence: PresencePort; readonly journeyOutbox?: JourneyOutboxStore; readonly log?: (line: string) => void },
): PacingTickDeps {
  return {
    catalog: outcomeDeps.catalog,
    deliveries: outcomeDeps.deliveries,
    outcomes: outcomeDeps.outcomes,
    recentOutcomes: new RecentOutcomes(outcomeDeps.outcomes, OUTCOME_LOOKBACK_MS),
    stateStore: new PacingStateStore(tables),
    leases: new PacingLeaseStore(tables, 'owner'),
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
