import type { CallEvent } from '../contacts/callEvent.js';
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

/** The dialing back-end: Dynamics 365 Contact Center (CCaaS_* actions) or the embedded simulator. */
export interface DialerPort extends DialerReconciliation {
  readonly name: 'dynamics365' | 'simulator';
  /** Hands calls to the back-end. Must be idempotent per (deliveryId, attempt). */
  dial(requests: readonly DialRequest[]): Promise<DialSubmission[]>;
  /** Cancels calls not yet placed (engagement stopped). Unknown or finished ids are ignored. */
  cancel(deliveryIds: readonly string[]): Promise<void>;
  /**
   * Optional: what became of calls handed over long ago without an outcome (a lost event). The sweep
   * asks before ending them itself; a back-end that cannot say leaves this out.
   */
  reconcile?(calls: readonly HandedCall[], now: number): Promise<Reconciliation[]>;
}

/** A call handed to the back-end long ago whose outcome has not arrived (the sweep's question). */
export interface HandedCall extends InFlightDelivery {
  readonly backendRef: string | undefined;
}

/** A delivery attempt handed to the back-end and still without an outcome. */
export interface InFlightDelivery {
  readonly engagementId: string;
  readonly deliveryId: string;
  readonly attempt: number;
  /** When it was handed over (epoch ms). */
  readonly since: number;
}

/**
 * The back-end's answer for one handed call: it ended (with its outcome, recorded like any other),
 * it is still in progress (ask again later), or the back-end does not know it.
 */
export type Reconciliation =
  | { readonly deliveryId: string; readonly attempt: number; readonly status: 'ended'; readonly event: CallEvent }
  | { readonly deliveryId: string; readonly attempt: number; readonly status: 'in-progress' }
  | { readonly deliveryId: string; readonly attempt: number; readonly status: 'unknown' };

/**
 * Optional views a back-end may give of deliveries it holds. Back-ends that report outcomes by
 * themselves (the simulator) do not implement them.
 */
export interface DialerReconciliation {
  /**
   * Asks the back-end what became of deliveries in flight and returns an outcome for each one it
   * says has ended (none for those still pending or unknown to it). The caller feeds them to the one
   * outcome recorder, which is idempotent per (delivery, attempt): an outcome already pushed through
   * `POST /api/call-events` is not counted twice.
   */
  pollOutcomes?(inFlight: readonly InFlightDelivery[], now: number): Promise<CallEvent[]>;
  /** The back-end asked not to be called before this time (epoch ms), or undefined. */
  throttledUntil?(now: number): Promise<number | undefined>;
}
