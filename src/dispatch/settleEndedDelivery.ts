import type { PlannedContact } from '../contacts/plannedContact.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';
import { toJourneyOutcome, type DeliveryEnd } from '../journeyOutcomes/journeyOutcome.js';
import type { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import type { JourneyOutboxStore } from '../store/journeyOutcomes/journeyOutboxStore.js';

/** What follows a delivery's end: the contact's pending mark, and the journey outbox when an engagement fires a trigger. */
export interface EndedDeliveryDeps {
  readonly pending: Pick<PendingContactStore, 'clear'>;
  readonly journeyOutbox?: Pick<JourneyOutboxStore, 'enqueue'> | undefined;
}

/** The delivery that ended: its id and the contact as planned (journey id and attributes come back with the outcome). */
export interface EndedDelivery {
  readonly deliveryId: string;
  readonly contact: PlannedContact;
}

/**
 * Queues the delivery's journey outcome when its engagement has `customerInsights.journeyTrigger`. The
 * outbox keeps one row per delivery, so a repeat (an outcome recorded again, a repaired crash) adds nothing.
 */
export async function queueJourneyOutcome(deps: EndedDeliveryDeps, engagement: EngagementConfig, delivery: EndedDelivery, end: DeliveryEnd): Promise<void> {
  const outcome = toJourneyOutcome(engagement, delivery.contact, delivery.deliveryId, end);
  if (outcome !== undefined) await deps.journeyOutbox?.enqueue(outcome);
}

/**
 * The one place every path that ends a delivery goes through once its terminal transition is made
 * (docs/lifecycle.md): the final outcome (`recordOutcome`, which queues before the transition and
 * releases after it), and the ends without one: cancelled (management cancel, engagement stopped),
 * expired (sweep, dial time), rejected (do-not-contact at dial time, refused by the back-end). It
 * queues the journey outcome, then releases the contact's pending mark.
 */
export async function settleEndedDelivery(deps: EndedDeliveryDeps, engagement: EngagementConfig, delivery: EndedDelivery, end: DeliveryEnd): Promise<void> {
  await queueJourneyOutcome(deps, engagement, delivery, end);
  await deps.pending.clear(engagement.id, delivery.contact.contactId, delivery.deliveryId);
}

/**
 * The end of a delivery whose current attempt was never placed (queued, or claimed and stopped before
 * the hand-over): the calls made are the attempts before it.
 */
export function endWithoutCall(record: { readonly attempt: number }, result: DeliveryEnd['result'], now: number): DeliveryEnd {
  return { result, attempts: record.attempt - 1, at: new Date(now).toISOString() };
}
