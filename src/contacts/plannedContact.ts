import type { PhoneType } from '../engagement/engagementSchema.js';

/** A phone number ready to dial: E.164, with the type it was given under. */
export interface ContactPhone {
  readonly type: PhoneType;
  readonly e164: string;
}

/** An absolute calling window, ISO-8601 UTC instants (`2026-11-25T14:00:00.000Z`), start < end. */
export interface CallWindow {
  readonly start: string;
  readonly end: string;
}

/** A phone with the windows it may be called in (quiet hours differ by phone type). */
export interface PlannedPhone extends ContactPhone {
  readonly windows: readonly CallWindow[];
}

export type AttributeValue = string | number | boolean;

/** The Customer Insights journey a delivery came from: returned with its outcome through the journey trigger. */
export interface JourneyRef {
  readonly journeyId: string;
  /** The journey custom trigger's attributes as they arrived (after the field map). */
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

/**
 * A contact the planner accepted for an engagement: what the dialer and the agent leg need, in the
 * order phones are to be tried, with the windows it may be called in. This is the contact shape carried
 * in contact-batch messages (schema `contact-batch/v1`).
 */
export interface PlannedContact {
  readonly contactId: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly email?: string;
  readonly locale?: string;
  /** Callable phones in the engagement's phone order, each with its own windows. */
  readonly phones: readonly PlannedPhone[];
  /** IANA zone used for the contact's local hours. */
  readonly timeZone: string;
  /** True when the zone was not given and was inferred from the phone number. */
  readonly timezoneInferred: boolean;
  /** Union of the phones' windows. */
  readonly windows: readonly CallWindow[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Sort key for the engagement's call order: ascending key = called first. */
  readonly callOrderKey: string;
  /** Engagement priority rank (1 normal, 2 high, 3 critical). */
  readonly priority: number;
  /** Where the contact came from: `event:<eventId>` or `segment:<segmentId>/<exportRunId>/<page>`. */
  readonly source: string;
  /** Stable delivery id: the idempotency key for dialing this contact for this trigger. */
  readonly deliveryId: string;
  /** Set for contacts from a journey event. */
  readonly journey?: JourneyRef;
}
