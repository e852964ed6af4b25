import type { PacingDecision } from '../pacing/pacingDecision.js';
import type { OutcomeSummary, SummaryOptions } from '../pacing/summarizeOutcomes.js';
import type { EngagementMetricsStore } from '../store/dispatch/engagementMetricsStore.js';

/** The rolling window the charted rates are computed over. */
export const METRICS_RATE_MINUTES = 15;

export interface TickMetricsDeps {
  readonly metrics: Pick<EngagementMetricsStore, 'addTick'>;
  /** Recent outcome counters of an engagement (the tick's own read, not repeated). */
  readonly outcomesOf: (
    engagementId: string,
    now: number,
  ) => Promise<{ summarize(now: Date, windowMinutes: number, options?: SummaryOptions): OutcomeSummary }>;
}

/**
 * After a pacing tick: each decision becomes a point of its engagement's minute. Written after the tick
 * has placed its calls, and a failure here never undoes or blocks pacing (the caller logs it).
 */
export async function recordTickMetrics(deps: TickMetricsDeps, decisions: readonly PacingDecision[], now: number): Promise<void> {
  const at = new Date(now);
  await Promise.all(
    decisions.map(async (d) => {
      const summary = (await deps.outcomesOf(d.engagementId, now)).summarize(at, METRICS_RATE_MINUTES);
      const allocated = d.inputs.allocatedRepresentatives;
      await deps.metrics.addTick(d.engagementId, now, {
        dials: d.dialNow,
        pacingRate: d.predictive?.rate ?? (allocated > 0 ? d.limit / allocated : null),
        occupancy: d.inputs.staffedRepresentatives > 0 ? d.inputs.active.withRepresentative / d.inputs.staffedRepresentatives : null,
        abandonmentPercent: summary.abandonmentRate === null ? null : summary.abandonmentRate * 100,
        averageWaitSeconds: summary.averageWaitSeconds,
        failurePercent: summary.failureRate === null ? null : summary.failureRate * 100,
        status: d.status,
      });
    }),
  );
}
