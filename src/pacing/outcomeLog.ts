import type { CallEvent } from '../contacts/callEvent.js';
import { addEventCounts, COUNTER_COUNT, toOutcomeSummary, windowBounds, type OutcomeSummary, type SummaryOptions } from './summarizeOutcomes.js';

/**
 * One engagement's outcome events indexed by time with running totals, so a window summary costs two
 * binary searches instead of a pass over 30 days of events. A pacing tick asks for several windows per
 * engagement every few seconds; the benchmark and a long-running host append events as they arrive.
 * Summaries equal {@link summarizeOutcomes} over the same events.
 */
export class OutcomeLog {
  private times: number[] = [];
  /** prefix[(i + 1) * COUNTER_COUNT + k] = counter k summed over events 0..i (row 0 is zeros). */
  private prefix = new Float64Array(COUNTER_COUNT * 64);
  private events: CallEvent[] = [];

  static from(events: readonly CallEvent[]): OutcomeLog {
    const log = new OutcomeLog();
    const sorted = events
      .map((event) => ({ event, at: Date.parse(event.at) }))
      .filter((e) => !Number.isNaN(e.at))
      .sort((a, b) => a.at - b.at);
    for (const { event, at } of sorted) log.push(event, at);
    return log;
  }

  get size(): number {
    return this.times.length;
  }

  /** Adds an event. Events usually arrive in time order; an older one is inserted in place (slower). */
  append(event: CallEvent): void {
    const at = Date.parse(event.at);
    if (Number.isNaN(at)) return;
    const last = this.times[this.times.length - 1];
    if (last === undefined || at >= last) {
      this.push(event, at);
      return;
    }
    const index = this.upperBound(at);
    const tail = this.events.slice(index);
    const tailTimes = this.times.slice(index);
    this.events.length = index;
    this.times.length = index;
    this.push(event, at);
    tail.forEach((e, i) => this.push(e, tailTimes[i] ?? at));
  }

  /** Drops events that ended at or before `before`, keeping the memory of a long-running log bounded. */
  dropBefore(before: Date): OutcomeLog {
    const kept = this.events.filter((_, i) => (this.times[i] ?? 0) > before.getTime());
    return OutcomeLog.from(kept);
  }

  summarize(now: Date, windowMinutes: number, options: SummaryOptions = {}): OutcomeSummary {
    const { fromMs, toMs } = windowBounds(now, windowMinutes, options.since);
    const start = this.upperBound(fromMs);
    const end = this.upperBound(toMs);
    const counts = new Float64Array(COUNTER_COUNT);
    if (end > start) {
      for (let k = 0; k < COUNTER_COUNT; k++) {
        counts[k] = (this.prefix[end * COUNTER_COUNT + k] ?? 0) - (this.prefix[start * COUNTER_COUNT + k] ?? 0);
      }
    }
    return toOutcomeSummary(counts, fromMs, toMs);
  }

  private push(event: CallEvent, at: number): void {
    const row = this.times.length + 1;
    if ((row + 1) * COUNTER_COUNT > this.prefix.length) {
      const grown = new Float64Array(this.prefix.length * 2);
      grown.set(this.prefix);
      this.prefix = grown;
    }
    this.prefix.copyWithin(row * COUNTER_COUNT, (row - 1) * COUNTER_COUNT, row * COUNTER_COUNT);
    addEventCounts(event, this.prefix, row * COUNTER_COUNT);
    this.times.push(at);
    this.events.push(event);
  }

  /** Index of the first event later than `ms`. */
  private upperBound(ms: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.times[mid] ?? 0) <= ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
