import type { EngagementConfig } from '../engagement/engagementSchema.js';

/**
 * An engagement's calls that are up right now, by stage. The shell counts them from its delivery
 * store (submitted and not finished); the simulator reports them directly.
 */
export interface ActiveCalls {
  /** Dialed (or handed to the back-end) and not answered yet. */
  readonly ringing: number;
  /** AI-led: answered and talking to the AI agent. */
  readonly withAgent: number;
  /** Answered (representative-led) or escalated (AI-led), not yet joined by a representative: "open" in D365 terms. */
  readonly waitingForRepresentative: number;
  readonly withRepresentative: number;
  /**
   * Representatives tied to this engagement's calls, preview reservations included. They are taken out
   * of the available list even when presence has not caught up yet, so one is never reserved twice.
   */
  readonly representativeIds?: readonly string[];
  /**
   * When each ringing call was placed (epoch ms), where the source knows it: predictive pacing counts a
   * call that has rung past the time people answer in as only part of a line (see
   * `PREDICTIVE_LATE_RING_SECONDS` in computePredictiveRate.ts).
   */
  readonly ringingSince?: readonly number[];
}

export const NO_ACTIVE_CALLS: ActiveCalls = Object.freeze({
  ringing: 0,
  withAgent: 0,
  waitingForRepresentative: 0,
  withRepresentative: 0,
});

/**
 * Calls that still count against the dial mode's limit. Calls already with a representative do not:
 * their representative is no longer in the available list the limit is computed from. Copilot's limit
 * is a concurrency limit, so every call that is up counts.
 */
export function callsInFlight(engagement: EngagementConfig, active: ActiveCalls): number {
  switch (engagement.dialMode.mode) {
    case 'copilot':
      return active.ringing + active.withAgent + active.waitingForRepresentative + active.withRepresentative;
    case 'preview':
      // The representative is reserved before the customer is dialed, so the call is paid for by
      // a representative who is already out of the available list.
      return 0;
    case 'progressive':
    case 'predictive':
      return active.ringing + active.withAgent + active.waitingForRepresentative;
  }
}
