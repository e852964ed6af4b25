import type { CallResult } from '../contacts/callResult.js';
import type { CallWindow, ContactPhone, AttributeValue } from '../contacts/plannedContact.js';

/** One call to place. `deliveryId` + `attempt` is the idempotency key: a back-end never dials it twice. */
export interface DialRequest {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly engagementId: string;
  /** The engagement's msdyn_proactive_engagement_config id, when the back-end is Dynamics 365. */
  readonly dynamicsConfigId?: string;
  readonly priority: number;
  readonly contact: {
    readonly contactId: string;
    readonly firstName?: string;
    readonly lastName?: string;
    readonly email?: string;
    readonly phones: readonly ContactPhone[];
    readonly timeZone: string;
    readonly attributes: Readonly<Record<string, AttributeValue>>;
    readonly windows: readonly CallWindow[];
  };
  /** Preview mode: the representative reserved for this call before the customer is dialed. */
  readonly representativeId?: string;
}

/** What the back-end said about one request; `rejected` requests were not placed and will not be. */
export type DialSubmission =
  | { readonly deliveryId: string; readonly status: 'accepted'; readonly backendRef: string }
  | { readonly deliveryId: string; readonly status: 'rejected'; readonly reason: string };

/**
 * An outcome for a delivery attempt, reported by the back-end (the simulator directly, Dynamics 365
 * through `POST /api/call-events`).
 */
export interface CallEvent {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly engagementId: string;
  readonly result: CallResult;
  /** When the call ended (ISO-8601). */
  readonly at: string;
  /** Seconds from the customer answering to a representative (or the agent) joining; abandoned calls included. */
  readonly waitSeconds?: number;
  readonly handleSeconds?: number;
  readonly representativeId?: string;
  /** AI-led: the agent escalated (handed off) the call to a representative. */
  readonly escalated?: boolean;
  /** Agent-leg disposition, when the agent captured one. */
  readonly disposition?: 'interested' | 'callback' | 'not-interested' | 'do-not-contact' | 'not-right-party' | 'voicemail';
  /** Callback time requested by the customer (ISO-8601), with disposition `callback`. */
  readonly callbackAt?: string;
  readonly sipCode?: number;
}

/** The dialing back-end: Dynamics 365 Contact Center (CCaaS_* actions) or the embedded simulator. */
export interface DialerPort {
  readonly name: 'dynamics365' | 'simulator';
  /** Hands calls to the back-end. Must be idempotent per (deliveryId, attempt). */
  dial(requests: readonly DialRequest[]): Promise<DialSubmission[]>;
  /** Cancels calls not yet placed (engagement stopped). Unknown or finished ids are ignored. */
  cancel(deliveryIds: readonly string[]): Promise<void>;
}
