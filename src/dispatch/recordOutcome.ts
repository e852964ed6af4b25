import type { CallEvent } from '../contacts/callEvent.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../store/contacts/frequencyLedgerStore.js';
import type { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import { countsAsEngagement, decideReattempt } from './decideReattempt.js';
import type { DeliveryStore } from '../store/dispatch/deliveryStore.js';
import type { OutcomeStore } from '../store/dispatch/outcomeStore.js';
import { toJourneyOutcome } from '../journeyOutcomes/journeyOutcome.js';
import type { JourneyOutboxStore } from '../store/journeyOutcomes/journeyOutboxStore.js';

export interface OutcomeDeps {
  readonly catalog: EngagementCatalog;
  readonly deliveries: DeliveryStore;
  readonly outcomes: OutcomeStore;
  readonly ledger: FrequencyLedgerStore;
  readonly doNotContact: DoNotContactStore;
  readonly pending: PendingContactStore;
  /** Where a delivery's end is queued for the engagement's journey custom trigger. */
  readonly journeyOutbox?: Pick<JourneyOutboxStore, 'enqueue'>;
  readonly clock?: () => number;
}

export type OutcomeRecording =
  | { readonly status: 'recorded'; readonly next: string }
  | { readonly status: 'merged' }
  | { readonly status: 'duplicate' }
  | { readonly status: 'unknown-delivery' };

/**
 * Applies an attempt's outcome (from the simulator, or Dynamics 365 through `POST /api/call-events`):
 * records it once, counts it in the contact's frequency ledger, honours a do-not-contact disposition,
 * and ends the attempt, queueing a reattempt or a callback where the engagement or the customer asks.
 *
 * Every step is idempotent by (delivery, attempt), and the steps after the record run even when the
 * record already existed: a crash between them is repaired by the same event arriving again.
 */
export async function recordOutcome(deps: OutcomeDeps, event: CallEvent): Promise<OutcomeRecording> {
  const now = deps.clock?.() ?? Date.now();
  const engagement = deps.catalog.engagements.get(event.engagementId);
  const delivery = engagement === undefined ? undefined : await deps.deliveries.get(event.engagementId, event.deliveryId);
  if (engagement === undefined || delivery === undefined) return { status: 'unknown-delivery' };
  const recorded = await deps.outcomes.record(event);
  const isNew = recorded === 'recorded';
  const { contact } = delivery;
  if (countsAsEngagement(event)) {
    await deps.ledger.record(contact.contactId, {
      at: Date.parse(event.at),
      engagementId: event.engagementId,
      attemptKey: `${event.deliveryId}#${event.attempt}`,
    });
  }
  if (event.disposition === 'do-not-contact') {
    const source = `engagement:${event.engagementId}/delivery:${event.deliveryId}`;
    await deps.doNotContact.add({ contactId: contact.contactId }, 'customer asked not to be contacted', source);
    for (const phone of contact.phones) await deps.doNotContact.add({ phone: phone.e164 }, 'customer asked not to be contacted', source);
  }
  const decision =
    event.disposition === 'do-not-contact'
      ? ({ kind: 'final', state: 'done', reason: 'do not contact' } as const)
      : decideReattempt(engagement, event, contact.windows);
  // Before the delivery is finished, so a crash in between is repaired by the event's redelivery; one row per
  // delivery. Outbox times are the wall clock's (Retry-After is real time), not the simulator's.
  const journeyOutcome = decision.kind === 'final' ? toJourneyOutcome(engagement, contact, event) : undefined;
  if (journeyOutcome !== undefined) await deps.journeyOutbox?.enqueue(journeyOutcome);
  const changed = await deps.deliveries.finishAttempt(
    event.engagementId,
    event.deliveryId,
    event.attempt,
    event.result,
    decision.kind === 'final'
      ? { final: decision.state }
      : { requeue: { notBefore: decision.notBefore, band: decision.band, ...(decision.windows === undefined ? {} : { windows: decision.windows }) } },
    now,
  );
  if (decision.kind === 'final' && (changed || delivery.state === 'done' || delivery.state === 'rejected')) {
    await deps.pending.clear(event.engagementId, contact.contactId, event.deliveryId);
  }
  if (recorded === 'merged' && !changed) return { status: 'merged' };
  if (!isNew && !changed) return { status: 'duplicate' };
  return { status: 'recorded', next: decision.reason };
}
