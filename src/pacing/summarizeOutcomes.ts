import type { CallEvent } from '../contacts/callEvent.js';
import type { CallResult } from '../contacts/callResult.js';

/**
 * FTC TSR (16 CFR 310.4(b)(4)) and FCC 47 CFR 64.1200: a call is abandoned when the answering person
 * is not connected to a live person within 2 seconds of their greeting. Waits above it are "exceeded".
 */
export const TSR_ABANDON_SECONDS = 2;

/** Results that mean no call was placed, so they are not dials. */
const NOT_PLACED: ReadonlySet<CallResult> = new Set<CallResult>(['Cancelled', 'Expired', 'CSRCancelled']);
/**
 * Results that mean a person answered. `BotFailed` is a person the AI agent failed with; `Abandoned`
 * is a person nobody (representative or agent) joined in time or who hung up waiting.
 */
const LIVE: ReadonlySet<CallResult> = new Set<CallResult>(['LiveAnswer', 'Abandoned', 'BotFailed']);

/**
 * Counts and rates over the outcome events of one engagement in a window. Rates are fractions (0..1),
 * `null` when their denominator is zero, so "no data" is never mistaken for "0%".
 */
export interface OutcomeSummary {
  /** Window start (exclusive) and end (inclusive), ISO-8601. */
  readonly from: string;
  readonly to: string;
  readonly events: number;
  /** Calls placed: every event except Cancelled, Expired and CSRCancelled. */
  readonly dialed: number;
  /** LiveAnswer + Abandoned + BotFailed. */
  readonly liveAnswers: number;
  readonly liveAnswerRate: number | null;
  readonly abandoned: number;
  /** abandoned / liveAnswers: the denominator the FTC and Ofcom use. */
  readonly abandonmentRate: number | null;
  /** Mean `waitSeconds` over events that carry one (customer waiting for a representative, or for the agent). */
  readonly averageWaitSeconds: number | null;
  readonly waits: number;
  /**
   * Answered calls not connected within {@link TSR_ABANDON_SECONDS}: every Abandoned call, and
   * connected calls whose wait was longer (held in queue past the limit).
   */
  readonly waitsOverLimit: number;
  /** waitsOverLimit / liveAnswers: Microsoft's "exceeded wait threshold" rate. */
  readonly exceededWaitRate: number | null;
  readonly escalations: number;
  readonly botFailures: number;
  /**
   * botFailures / liveAnswers. In AI-led engagements every answered call goes to the agent first, so
   * live answers are the calls the agent handled.
   */
  readonly failureRate: number | null;
  /** LiveAnswer events that name the representative who took the call. */
  readonly connectedToRepresentative: number;
}

/** Positions of one event's contributions in a counter vector (see {@link addEventCounts}). */
export const COUNTER = {
  events: 0,
  dialed: 1,
  liveAnswers: 2,
  abandoned: 3,
  waitSum: 4,
  waits: 5,
  waitsOverLimit: 6,
  escalations: 7,
  botFailures: 8,
  connectedToRepresentative: 9,
} as const;
export const COUNTER_COUNT = 10;

/** Adds one event's contributions to `into` at `offset`; shared by the one-pass and the indexed summaries. */
export function addEventCounts(event: CallEvent, into: Float64Array, offset: number): void {
  into[offset + COUNTER.events] = (into[offset + COUNTER.events] ?? 0) + 1;
  const add = (index: number, value: number) => {
    into[offset + index] = (into[offset + index] ?? 0) + value;
  };
  if (!NOT_PLACED.has(event.result)) add(COUNTER.dialed, 1);
  if (LIVE.has(event.result)) add(COUNTER.liveAnswers, 1);
  if (event.result === 'Abandoned') {
    add(COUNTER.abandoned, 1);
    add(COUNTER.waitsOverLimit, 1);
  }
  if (event.result === 'BotFailed') add(COUNTER.botFailures, 1);
  if (event.escalated === true) add(COUNTER.escalations, 1);
  if (event.result === 'LiveAnswer' && event.representativeId !== undefined) add(COUNTER.connectedToRepresentative, 1);
  const wait = event.waitSeconds;
  if (wait !== undefined && Number.isFinite(wait) && wait >= 0) {
    add(COUNTER.waitSum, wait);
    add(COUNTER.waits, 1);
    if (wait > TSR_ABANDON_SECONDS && event.result !== 'Abandoned') add(COUNTER.waitsOverLimit, 1);
  }
}

/** Builds the summary from a counter vector (totals over the window). */
export function toOutcomeSummary(counts: ArrayLike<number>, fromMs: number, toMs: number): OutcomeSummary {
  const c = (index: number) => counts[index] ?? 0;
  const ratio = (num: number, den: number) => (den > 0 ? num / den : null);
  const live = c(COUNTER.liveAnswers);
  const dialed = c(COUNTER.dialed);
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    events: c(COUNTER.events),
    dialed,
    liveAnswers: live,
    liveAnswerRate: ratio(live, dialed),
    abandoned: c(COUNTER.abandoned),
    abandonmentRate: ratio(c(COUNTER.abandoned), live),
    averageWaitSeconds: ratio(c(COUNTER.waitSum), c(COUNTER.waits)),
    waits: c(COUNTER.waits),
    waitsOverLimit: c(COUNTER.waitsOverLimit),
    exceededWaitRate: ratio(c(COUNTER.waitsOverLimit), live),
    escalations: c(COUNTER.escalations),
    botFailures: c(COUNTER.botFailures),
    failureRate: ratio(c(COUNTER.botFailures), live),
    connectedToRepresentative: c(COUNTER.connectedToRepresentative),
  };
}

export interface SummaryOptions {
  /** Ignore events before this instant (an engagement restarted after a stop or a pause). */
  readonly since?: Date;
}

/**
 * Summarises the events that ended in the window (now - windowMinutes, now]. Events with an
 * unreadable `at` are skipped: they were validated at the boundary, so this only guards the maths.
 * The status API and the pacing decisions share it, so the figures an operator sees are the ones
 * the pacing acted on.
 */
export function summarizeOutcomes(events: readonly CallEvent[], now: Date, windowMinutes: number, options: SummaryOptions = {}): OutcomeSummary {
  const { fromMs, toMs } = windowBounds(now, windowMinutes, options.since);
  const counts = new Float64Array(COUNTER_COUNT);
  for (const event of events) {
    const at = Date.parse(event.at);
    if (at > fromMs && at <= toMs) addEventCounts(event, counts, 0);
  }
  return toOutcomeSummary(counts, fromMs, toMs);
}

/** The window as exclusive-start / inclusive-end milliseconds; `since` moves the start forward (inclusive). */
export function windowBounds(now: Date, windowMinutes: number, since?: Date): { fromMs: number; toMs: number } {
  const toMs = now.getTime();
  let fromMs = toMs - windowMinutes * 60_000;
  if (since !== undefined) fromMs = Math.max(fromMs, since.getTime() - 1);
  return { fromMs, toMs };
}

/** Answered calls that are still up: withAgent + waiting for a representative + with a representative. */
export interface AnsweredInProgress {
  readonly withAgent: number;
  readonly waitingForRepresentative: number;
  readonly withRepresentative: number;
}

/**
 * Adds the calls answered and still up to a summary's live answers (and dials). Outcome events arrive
 * when calls end: an abandonment 2 s after the answer, a handled call minutes later. Rates over ended
 * calls alone are biased: the abandonment and failure rates far too high and the answer rate far too
 * low for the first handle times of a campaign (3 abandoned of 75 ended live answers when 150 people
 * had answered). Pacing judges rates on this corrected summary. In AI-led engagements the calls
 * waiting for or with a representative were escalated by the agent, so they count as escalations too.
 */
export function withCallsInProgress(summary: OutcomeSummary, active: AnsweredInProgress, aiLed: boolean): OutcomeSummary {
  const up = active.withAgent + active.waitingForRepresentative + active.withRepresentative;
  if (up === 0) return summary;
  const live = summary.liveAnswers + up;
  const dialed = summary.dialed + up;
  return {
    ...summary,
    dialed,
    liveAnswers: live,
    escalations: summary.escalations + (aiLed ? active.waitingForRepresentative + active.withRepresentative : 0),
    liveAnswerRate: live / dialed,
    abandonmentRate: summary.abandoned / live,
    exceededWaitRate: summary.waitsOverLimit / live,
    failureRate: summary.botFailures / live,
  };
}
