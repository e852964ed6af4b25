import { COUNT_HOUR_MS, MAX_WINDOW_MINUTES, type OutcomeCounts } from '../pacing/outcomeCounts.js';
import { countsOfHours, type HourCounts, type OutcomeStore } from '../store/dispatch/outcomeStore.js';

/** More hours than this missing from the cache (a new worker, a first tick) are read in one range read. */
const RANGE_READ_FROM = 24;

const hourOf = (ms: number) => new Date(Math.floor(ms / COUNT_HOUR_MS) * COUNT_HOUR_MS).toISOString().slice(0, 13);

/**
 * The outcome counters pacing reads every tick, from the engagement's hourly aggregate rows (see
 * OutcomeStore.record), over the longest window it uses, at most 30 days. The rows are kept between
 * ticks of the same worker and checked against the engagement's index row, which names each hour's
 * version: a tick costs one point read of the index and one of each hour that changed (usually the
 * current one), however many calls the engagement made and however long its windows. A first tick
 * reads the hours in one range read. It is a cache, not state: every figure comes from the rows.
 */
export class RecentOutcomes {
  private readonly hours = new Map<string, Map<string, HourCounts>>();
  private readonly last = new Map<string, { now: number; counts: OutcomeCounts }>();

  constructor(
    private readonly store: OutcomeStore,
    /** The longest window read, when `of` is not told the engagement's own. */
    private readonly lookbackMs: number = MAX_WINDOW_MINUTES * 60_000,
  ) {}

  /**
   * Counters of the engagement's outcomes over the last `windowMinutes` (by default the lookback given
   * at construction). Asked again at the same instant (the tick's metrics after its decision), nothing
   * is read again.
   */
  async of(engagementId: string, now: number, windowMinutes?: number): Promise<OutcomeCounts> {
    const cached = this.last.get(engagementId);
    if (cached?.now === now) return cached.counts;
    const from = now - Math.min(this.lookbackMs, (windowMinutes ?? MAX_WINDOW_MINUTES) * 60_000);
    const first = hourOf(from);
    const lastHour = hourOf(now);
    const kept = this.hours.get(engagementId) ?? new Map<string, HourCounts>();
    this.hours.set(engagementId, kept);
    const versions = await this.store.hourVersions(engagementId);
    const stale = [...versions].filter(([hour, version]) => hour >= first && hour <= lastHour && kept.get(hour)?.version !== version).map(([hour]) => hour);
    if (stale.length > RANGE_READ_FROM) {
      for (const row of await this.store.hourRows(engagementId, from, now)) kept.set(row.hour, row);
    } else {
      const rows = await Promise.all(stale.map((hour) => this.store.hourRow(engagementId, hour)));
      for (const row of rows) if (row !== undefined) kept.set(row.hour, row);
    }
    for (const hour of kept.keys()) if (hour < first || !versions.has(hour)) kept.delete(hour);
    const counts = countsOfHours([...kept.values()].filter((row) => row.hour <= lastHour));
    this.last.set(engagementId, { now, counts });
    return counts;
  }
}
