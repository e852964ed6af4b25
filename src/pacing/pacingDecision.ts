import type { DialModeName, RuleKind } from '../engagement/engagementSchema.js';
import type { ActiveCalls } from './activeCalls.js';
import type { PredictiveEvaluation } from './computePredictiveRate.js';
import type { FailurePolicyEvaluation } from './evaluateFailurePolicy.js';
import type { RuleEvaluation } from './evaluateRules.js';
import type { PacingStatus } from './pacingState.js';

/** What set `dialNow` to its value: the tightest of the limits, named for the status API. */
export type BoundBy =
  | 'configuration-paused'
  | 'stopped'
  | 'paused-until-restart'
  /** An operator's pause (management API), until resumed. */
  | 'operator-paused'
  | 'unknown-queue'
  /** Neither the primary nor the fallback queue has every skill the engagement requires. */
  | 'missing-skills'
  | 'outside-operating-hours'
  | `rule:${RuleKind}`
  /** Available representatives x calls per representative (progressive, preview, predictive fallback). */
  | 'representatives'
  /** Predictive rate x available representatives. */
  | 'predictive-rate'
  /** Representative-led predictive: the lines the free representatives take safely (above the rate's). */
  | 'predictive-safe-lines'
  | 'copilot-concurrency'
  /** Copilot: the hand-offs expected from more calls could not be served by the representatives. */
  | 'escalation-capacity'
  /** Fewer callable deliveries than the limit allows. */
  | 'pending';

/** Copilot's limits: concurrency and the hand-offs the representatives can take. */
export interface CopilotEvaluation {
  readonly maxConcurrentCalls: number;
  /** Escalations per dial and per answered call, smoothed (+1 / +1) so that no data means "assume every call escalates". */
  readonly escalationsPerDial: number;
  readonly escalationsPerAnswer: number;
  /** Allocated representatives x maxCallsPerRepresentative. */
  readonly escalationCapacity: number;
  /** Escalations expected from the calls already up: waiting + with agent x per answer + ringing x per dial. */
  readonly expectedEscalations: number;
  /** Calls that may be up before the expected escalations exceed the capacity. */
  readonly escalationLimit: number;
}

/** Which queues served an engagement at one tick (primary, then fallback when the primary had no capacity). */
export interface RoutingEvaluation {
  readonly primaryQueue: string;
  readonly fallbackQueue?: string;
  /** The engagement's `routing.skills`, each required of a queue that serves it. */
  readonly requiredSkills: readonly string[];
  /** Queues with the required skills and within their operating hours, in order. */
  readonly usableQueues: readonly string[];
  /** Queues whose representatives were allocated to it at this tick. */
  readonly queuesUsed: readonly string[];
  /** Representatives allocated from the fallback queue. */
  readonly fromFallback: number;
  /** Free representatives in the fallback queue before arbitration. */
  readonly fallbackAvailable?: number;
  /** Why a queue was skipped, or that the fallback served it. */
  readonly explanation?: string;
}

/** One engagement's pacing decision at one tick, with everything it was computed from. */
export interface PacingDecision {
  readonly engagementId: string;
  readonly at: string;
  readonly queue: string;
  readonly mode: DialModeName;
  /** Predictive falls back to progressive with one call per representative; otherwise the mode. */
  readonly effectiveMode: DialModeName;
  readonly status: PacingStatus;
  readonly reason?: string;
  /** New calls to place now. */
  readonly dialNow: number;
  /** Preview: the representatives reserved for the `dialNow` calls, one each, in order. */
  readonly reservedRepresentativeIds: readonly string[];
  /** Stopped engagements: the shell cancels the engagement's queued deliveries (idempotent, said every tick). */
  readonly cancelQueuedDeliveries: boolean;
  readonly boundBy: BoundBy;
  /** Calls the mode allows in flight before rules. */
  readonly capacity: number;
  /** After the binding rule's decrease. */
  readonly limit: number;
  readonly inputs: {
    /** Free representatives in the queue before arbitration. */
    readonly availableRepresentatives: number;
    /** Of those, the ones this engagement may use after higher priorities and round-robin. */
    readonly allocatedRepresentatives: number;
    readonly staffedRepresentatives: number;
    readonly inFlight: number;
    readonly active: ActiveCalls;
    readonly pending: number;
    readonly withinOperatingHours: boolean;
  };
  /** The queues that served it, and why. */
  readonly routing: RoutingEvaluation;
  readonly rules: readonly RuleEvaluation[];
  readonly failurePolicy?: FailurePolicyEvaluation;
  readonly predictive?: PredictiveEvaluation;
  readonly copilot?: CopilotEvaluation;
}
