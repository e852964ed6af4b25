import type { AttributeValue, PlannedContact } from '../contacts/plannedContact.js';
import type { EngagementConfig } from '../engagement/engagementSchema.js';

/** A delivery's end, to be told to the engagement's journey custom trigger. */
export interface JourneyOutcome {
  readonly engagementId: string;
  readonly deliveryId: string;
  /** The custom API (`msdynmkt_*`) to call. */
  readonly triggerName: string;
  /** The Customer Insights contact / profile id. */
  readonly contactId: string;
  /** Empty for deliveries that did not come from a journey (segment exports). */
  readonly journeyId: string;
  readonly result: string;
  readonly attempts: number;
  readonly disposition: string;
  readonly callbackAt: string;
  /** When the last attempt ended (the signal's timestamp). */
  readonly endedAt: string;
  /** Journey trigger attributes echoed back (the engagement's `journeyTrigger.echoAttributes`). */
  readonly echoed: Readonly<Record<string, AttributeValue>>;
}

/**
 * How a delivery ended, whichever path ended it: its final recorded outcome, or an end without a call
 * (cancelled, expired, rejected at dial time), where `attempts` counts the calls actually placed.
 */
export interface DeliveryEnd {
  readonly result: string;
  readonly attempts: number;
  /** When it ended (ISO-8601): the last call's end, or the moment it was cancelled or expired. */
  readonly at: string;
  readonly disposition?: string | undefined;
  readonly callbackAt?: string | undefined;
}

/** The journey outcome of a delivery that just ended; undefined when the engagement fires no journey trigger. */
export function toJourneyOutcome(engagement: EngagementConfig, contact: PlannedContact, deliveryId: string, end: DeliveryEnd): JourneyOutcome | undefined {
  const trigger = engagement.customerInsights?.journeyTrigger;
  if (trigger === undefined) return undefined;
  const echoed: Record<string, AttributeValue> = {};
  for (const name of trigger.echoAttributes) echoed[name] = contact.journey?.attributes[name] ?? contact.attributes[name] ?? '';
  return {
    engagementId: engagement.id,
    deliveryId,
    triggerName: trigger.name,
    contactId: contact.contactId,
    journeyId: contact.journey?.journeyId ?? '',
    result: end.result,
    attempts: end.attempts,
    disposition: end.disposition ?? '',
    callbackAt: end.callbackAt ?? '',
    endedAt: end.at,
    echoed,
  };
}

/**
 * The body of `POST {org}/api/data/v9.2/msdynmkt_<name>`: the signal fields, then every attribute of
 * the trigger as `msdynmkt_<attribute>`. Absent values are sent as empty strings, since a custom trigger
 * needs all its attributes defined.
 */
export function toJourneyTriggerBody(outcome: JourneyOutcome, now: number): Record<string, string | number | boolean> {
  const body: Record<string, string | number | boolean> = {
    msdynmkt_signaltimestamp: new Date(Date.parse(outcome.endedAt)).toISOString(),
    msdynmkt_signalingestiontimestamp: new Date(now).toISOString(),
    msdynmkt_signaluserauthid: outcome.contactId,
    msdynmkt_profileid: outcome.contactId,
    msdynmkt_journeyid: outcome.journeyId,
    msdynmkt_result: outcome.result,
    msdynmkt_attempts: outcome.attempts,
    msdynmkt_disposition: outcome.disposition,
    msdynmkt_callbackat: outcome.callbackAt,
    msdynmkt_deliveryid: outcome.deliveryId,
    msdynmkt_engagementid: outcome.engagementId,
  };
  for (const [name, value] of Object.entries(outcome.echoed)) body[`msdynmkt_${name}`] ??= value;
  return body;
}
