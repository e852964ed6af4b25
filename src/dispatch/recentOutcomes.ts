import type { CallEvent } from '../contacts/callEvent.js';
import type { OutcomeStore } from '../store/dispatch/outcomeStore.js';

/** Rows are keyed by recording time, which trails a call's end by the time its report took. */
const REPORTING_SLACK_MS = 10 * 60_000;

interface Window {
  /** By `deliveryId#attempt`: a merged report replaces the first one. */
  entries: Map<string, { at: number; event: CallEvent }>;
  lastRowKey: string | undefined;
}

/**
 * The recent outcomes pacing reads every tick, kept between ticks of the same worker so that each tick
 * reads only the rows recorded since the last one (a busy engagement records tens of thousands a day).
 * It is a cache, not state: a new worker rebuilds it from the Outcomes table in one read.
 */
export class RecentOutcomes {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly store: OutcomeStore,
    private readonly lookbackMs: number,
  ) {}

  /** Events of the engagement that ended within the lookback. */
  async of(engagementId: string, now: number): Promise<CallEvent[]> {
    const from = now - this.lookbackMs;
    const window: Window = this.windows.get(engagementId) ?? { entries: new Map(), lastRowKey: undefined };
    const page =
      window.lastRowKey === undefined
        ? await this.store.since(engagementId, from - REPORTING_SLACK_MS)
        : await this.store.after(engagementId, window.lastRowKey);
    for (const event of page.events) window.entries.set(`${event.deliveryId}#${event.attempt}`, { at: Date.parse(event.at), event });
    if (page.lastRowKey !== undefined) window.lastRowKey = page.lastRowKey;
    for (const [key, entry] of window.entries) if (entry.at < from) window.entries.delete(key);
    this.windows.set(engagementId, window);
    return [...window.entries.values()].map((e) => e.event);
  }
}
