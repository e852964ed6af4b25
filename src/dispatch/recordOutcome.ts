import { callEventSchema, type CallEvent } from '../contacts/callEvent.js';
import { toFieldIssues, type FieldIssue } from '../errors.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
import type { DoNotContactStore } from '../store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../store/contacts/frequencyLedgerStore.js';
import type { PendingContactStore } from '../store/contacts/pendingContactStore.js';
import { callbackContact } from './callbackWindows.js';
import { countsAsEngagement, decideReattempt } from './decideReattempt.js';
import { isTerminal, type DeliveryRecord, type DeliveryStore } from '../store/dispatch/deliveryStore.js';
import type { OutcomeStore } from '../store/dispatch/outcomeStore.js';
import type { JourneyOutboxStore } from '../store/journeyOutcomes/journeyOutboxStore.js';
import { queueJourneyOutcome } from './settleEndedDelivery.js';

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
  | { readonly status: 'unknown-delivery' }
  | { readonly status: 'refused'; readonly reason: OutcomeRefusal; readonly issues?: readonly FieldIssue[] };

/**
 * Why an outcome was not accepted: it is not a valid event, it claims a time no call of this app can
 * have ended at, or it is for an attempt that is not the delivery's current one in flight (never
 * dialed, already finished, or a later one) and completes no recorded report.
 */
export type OutcomeRefusal = 'invalid' | 'implausible-time' | 'not-in-flight';

/** How far ahead of the app's clock a reported end of call may be (clock skew between systems). */
export const MAX_OUTCOME_SKEW_MS = 5 * 60_000;
/** How old a reported end of call may be: an attempt in flight longer than this has been given up on. */
export const MAX_OUTCOME_AGE_MS = 7 * 86_400_000;
/** How far after the end of the call a requested callback may be. */
const MAX_CALLBACK_AHEAD_MS = 31 * 86_400_000;

/** Problems with an event's times: the call must have ended recently, a callback must follow the call. */
export function outcomeTimeIssues(event: Pick<CallEvent, 'at' | 'callbackAt'>, now: number, prefix = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const at = Date.parse(event.at);
  if (at > now + MAX_OUTCOME_SKEW_MS || at < now - MAX_OUTCOME_AGE_MS) {
    issues.push({ path: `${prefix}at`, message: 'expected the time the call ended: not in the future, within the last 7 days' });
  }
  if (event.callbackAt !== undefined) {
    const callback = Date.parse(event.callbackAt);
    if (callback < at - MAX_OUTCOME_SKEW_MS || callback > at + MAX_CALLBACK_AHEAD_MS) {
      issues.push({ path: `${prefix}callbackAt`, message: 'expected a time after the call ended, within 31 days' });
    }
  }
  return issues;
}

/**
 * The recorder's acceptance guard: outcomes are accepted only for a delivery's current attempt while it
 * is in flight, or as a later report completing an attempt already recorded (the agent leg and the
 * dialer both report one call). Anything else could put a number on the do-not-contact list, wipe a
 * contact's frequency history or stop an engagement, so it changes nothing. Returns the refusal, or
 * the delivery as read to go on.
 */
async function refuseOutcome(deps: OutcomeDeps, event: CallEvent, now: number): Promise<OutcomeRecording | DeliveryRecord> {
  const valid = callEventSchema.safeParse(event);
  if (!valid.success) return { status: 'refused', reason: 'invalid', issues: toFieldIssues(valid.error) };
  const timeIssues = outcomeTimeIssues(event, now);
  if (timeIssues.length > 0) return { status: 'refused', reason: 'implausible-time', issues: timeIssues };
  if (!deps.catalog.engagements.has(event.engagementId)) return { status: 'unknown-delivery' };
  const delivery = await deps.deliveries.get(event.engagementId, event.deliveryId);
  if (delivery === undefined) return { status: 'unknown-delivery' };
  const inFlight = delivery.attempt === event.attempt && (delivery.state === 'dialing' || delivery.state === 'submitted');
  if (inFlight) return delivery;
  const attemptEnded = delivery.attempt > event.attempt || (delivery.attempt === event.attempt && delivery.state !== 'queued');
  if (attemptEnded && (await deps.outcomes.has(event.engagementId, event.deliveryId, event.attempt))) return delivery;
  return { status: 'refused', reason: 'not-in-flight' };
}

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
  const delivery = await refuseOutcome(deps, event, now);
  if ('status' in delivery) return delivery;
  const engagement = deps.catalog.engagements.get(event.engagementId);
  if (engagement === undefined) return { status: 'unknown-delivery' };
  const recorded = await deps.outcomes.record(event);
  const isNew = recorded === 'recorded';
  const { contact } = delivery;
  const attemptKey = `${event.deliveryId}#${event.attempt}`;
  if (countsAsEngagement(event)) {
    await deps.ledger.record(contact.contactId, { at: Date.parse(event.at), engagementId: event.engagementId, attemptKey });
  } else {
    // Counted when it was dialed (see checkAtDial); it did not reach the contact after all.
    await deps.ledger.forget(contact.contactId, attemptKey);
  }
  if (event.disposition === 'do-not-contact') {
    const source = `engagement:${event.engagementId}/delivery:${event.deliveryId}`;
    await deps.doNotContact.add({ contactId: contact.contactId }, 'customer asked not to be contacted', source);
    for (const phone of contact.phones) await deps.doNotContact.add({ phone: phone.e164 }, 'customer asked not to be contacted', source);
  }
  let decision =
    event.disposition === 'do-not-contact'
      ? ({ kind: 'final', state: 'done', reason: 'do not contact' } as const)
      : decideReattempt(engagement, event, contact.windows);
  let requeued = contact;
  if (decision.kind === 'requeue' && decision.windows !== undefined) {
    // A callback is placed under the same calling rules as any call, per phone.
    const callback = callbackContact(engagement, deps.catalog.queues.get(engagement.routing.primaryQueue), contact, decision.notBefore);
    if (callback === undefined) decision = { kind: 'final', state: 'done', reason: 'callback asked for, but no phone may be called around that time' };
    else {
      requeued = callback;
      decision = { ...decision, notBefore: Date.parse(callback.windows[0]?.start ?? new Date(decision.notBefore).toISOString()) };
    }
  }
  // Before the delivery is finished, so a crash in between is repaired by the event's redelivery; one row per
  // delivery. Outbox times are the wall clock's (Retry-After is real time), not the simulator's.
  if (decision.kind === 'final') {
    const end = { result: event.result, attempts: event.attempt, at: event.at, disposition: event.disposition, callbackAt: event.callbackAt };
    await queueJourneyOutcome(deps, engagement, { deliveryId: event.deliveryId, contact }, end);
  }
  const changed = await deps.deliveries.finishAttempt(
    event.engagementId,
    event.deliveryId,
    event.attempt,
    event.result,
    decision.kind === 'final'
      ? { final: decision.state }
      : { requeue: { notBefore: decision.notBefore, band: decision.band, ...(requeued === contact ? {} : { contact: requeued }) } },
    now,
  );
  if (decision.kind === 'final' && (changed || isTerminal(delivery.state))) {
    await deps.pending.clear(event.engagementId, contact.contactId, event.deliveryId);
  }
  if (recorded === 'merged' && !changed) return { status: 'merged' };
  if (!isNew && !changed) return { status: 'duplicate' };
  return { status: 'recorded', next: decision.reason };
}
