import { MAX_WINDOW_MINUTES, type OutcomeCounts } from '../pacing/outcomeCounts.js';
import type { OutcomeStore } from '../store/dispatch/outcomeStore.js';

/**
 * The outcome counters pacing reads every tick: one range read of the engagement's hourly aggregate
 * rows (see OutcomeStore.counts) covering the longest window it uses, at most 30 days (721 rows),
 * however many calls it made. The rows are the only state: a new worker reads the same figures.
 */
export class RecentOutcomes {
  private readonly last = new Map<string, { now: number; counts: OutcomeCounts }>();

  constructor(
    private readonly store: OutcomeStore,
    /** The longest window read, when `of` is not told the engagement's own. */
    private readonly lookbackMs: number = MAX_WINDOW_MINUTES * 60_000,
  ) {}

  /**
   * Counters of the engagement's outcomes over the last `windowMinutes` (by default the lookback given
   * at construction). Asked again at the same instant (the tick's metrics after its decision), the
   * read is not repeated.
   */
  async of(engagementId: string, now: number, windowMinutes?: number): Promise<OutcomeCounts> {
    const lookback = Math.min(this.lookbackMs, (windowMinutes ?? MAX_WINDOW_MINUTES) * 60_000);
    const cached = this.last.get(engagementId);
    if (cached?.now === now) return cached.counts;
    const counts = await this.store.counts(engagementId, now - lookback, now);
    this.last.set(engagementId, { now, counts });
    return counts;
  }
}
