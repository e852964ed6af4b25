import type { CallEvent } from '../contacts/callEvent.js';
import { addEventCounts, COUNTER_COUNT, toOutcomeSummary, windowBounds, type OutcomeSummary, type SummaryOptions } from './summarizeOutcomes.js';

/** Counters are kept per step of this length: the resolution of every rule window. */
export const COUNT_STEP_MS = 5 * 60_000;
/** Steps are stored one row per hour (see OutcomeStore): 12 steps a row. */
export const COUNT_HOUR_MS = 3_600_000;
export const STEPS_PER_HOUR = COUNT_HOUR_MS / COUNT_STEP_MS;
/** The longest window a rule or predictive's rolling rates may use: 30 days, 720 hourly rows. */
export const MAX_WINDOW_MINUTES = 30 * 24 * 60;

/** The start of the step an instant falls in. */
export function stepOf(atMs: number): number {
  return Math.floor(atMs / COUNT_STEP_MS) * COUNT_STEP_MS;
}

/** One event's counter vector (see {@link addEventCounts}). */
export function countsOf(event: CallEvent): Float64Array {
  const counts = new Float64Array(COUNTER_COUNT);
  addEventCounts(event, counts, 0);
  return counts;
}

/**
 * One engagement's outcomes as counters per 5-minute step (what the hourly aggregate rows hold), so a
 * window summary is a sum over at most 30 days x 288 steps, whatever the number of calls. Windows are
 * measured in whole steps:
 *
 * - the step the window's start falls in is counted whole, so a window reaches back at most 5 minutes
 *   further than configured (an abandonment is never forgotten early);
 * - after a restart (`since`), only steps that start at or after it are counted, so events before the
 *   restart never count again (the minutes between the restart and the next step boundary are not
 *   counted either).
 *
 * Summaries over windows that are whole steps equal {@link summarizeOutcomes} over the same events.
 */
export class OutcomeCounts {
  private readonly steps: readonly (readonly [number, Float64Array])[];

  /** `steps`: counter vectors by step start (ms). */
  constructor(steps: ReadonlyMap<number, ArrayLike<number>>) {
    this.steps = [...steps].map(([at, counts]) => [at, Float64Array.from(counts)] as const).sort((a, b) => a[0] - b[0]);
  }

  static fromEvents(events: readonly CallEvent[]): OutcomeCounts {
    const steps = new Map<number, Float64Array>();
    for (const event of events) {
      const at = Date.parse(event.at);
      if (Number.isNaN(at)) continue;
      const step = stepOf(at);
      const counts = steps.get(step) ?? new Float64Array(COUNTER_COUNT);
      addEventCounts(event, counts, 0);
      steps.set(step, counts);
    }
    return new OutcomeCounts(steps);
  }

  /** How many steps hold counts. */
  get size(): number {
    return this.steps.length;
  }

  summarize(now: Date, windowMinutes: number, options: SummaryOptions = {}): OutcomeSummary {
    const toMs = now.getTime();
    const { fromMs } = windowBounds(now, windowMinutes);
    const firstStep = stepOf(fromMs + 1);
    const since = options.since?.getTime();
    const first = since === undefined ? firstStep : Math.max(firstStep, Math.ceil(since / COUNT_STEP_MS) * COUNT_STEP_MS);
    const counts = new Float64Array(COUNTER_COUNT);
    for (const [at, step] of this.steps) {
      if (at < first || at > toMs) continue;
      for (let k = 0; k < COUNTER_COUNT; k++) counts[k] = (counts[k] ?? 0) + (step[k] ?? 0);
    }
    return toOutcomeSummary(counts, Math.min(first, toMs), toMs);
  }
}
