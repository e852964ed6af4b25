import type { TableClient } from '@azure/data-tables';
import { odataString, toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const ENGAGEMENT_METRICS_TABLE = 'EngagementMetrics';

/**
 * One engagement's minute, as the console charts it. Rates are over the 15 minutes up to the last tick
 * of the minute (a minute alone holds too few calls to read), `null` when there was nothing to divide by.
 */
export interface MinuteMetrics {
  /** Start of the minute, ISO-8601 UTC. */
  readonly minute: string;
  /** Calls pacing decided to place in the minute (the sum of its ticks' dialNow). */
  readonly dials: number;
  /** Lines per allocated representative at the last tick (the predictive rate in predictive mode). */
  readonly pacingRate: number | null;
  /** Representatives on this engagement's calls over those staffed, at the last tick. */
  readonly occupancy: number | null;
  readonly abandonmentPercent: number | null;
  readonly averageWaitSeconds: number | null;
  /** BotFailed over live answers: the agent failure policy's measure (AI-led; 0 for representative-led). */
  readonly failurePercent: number | null;
  /** Pacing status at the last tick of the minute. */
  readonly status: string;
  readonly ticks: number;
}

interface Row {
  partitionKey: string;
  rowKey: string;
  metrics: string;
}

const MINUTE_MS = 60_000;
const minuteRow = (minute: string) => `m|${minute}`;

/** The start of the minute `at` falls in, ISO-8601. */
export function minuteOf(at: number): string {
  return new Date(Math.floor(at / MINUTE_MS) * MINUTE_MS).toISOString();
}

/**
 * Per-minute metrics per engagement (partition = engagement, row = minute), written by the pacing
 * tick's owner (one writer: the pacing lease) and read by the console. Additive: nothing else reads it.
 */
export class EngagementMetricsStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(ENGAGEMENT_METRICS_TABLE);
  }

  /** Folds one tick into its minute: dials add up, the rest is the latest tick's. */
  async addTick(engagementId: string, at: number, tick: Omit<MinuteMetrics, 'minute' | 'ticks'>): Promise<void> {
    const client = await this.client();
    const minute = minuteOf(at);
    const key = { partitionKey: toTableKey(engagementId), rowKey: minuteRow(minute) };
    let previous: MinuteMetrics | undefined;
    try {
      previous = JSON.parse((await client.getEntity<Row>(key.partitionKey, key.rowKey)).metrics) as MinuteMetrics;
    } catch (error) {
      if (tableErrorStatus(error) !== 404) throw error;
    }
    const merged: MinuteMetrics = { ...tick, minute, dials: (previous?.dials ?? 0) + tick.dials, ticks: (previous?.ticks ?? 0) + 1 };
    await client.upsertEntity({ ...key, metrics: JSON.stringify(merged) }, 'Replace');
  }

  /** Minutes from `from` (inclusive, ms) to `to` (exclusive), oldest first. */
  async range(engagementId: string, from: number, to: number): Promise<MinuteMetrics[]> {
    const client = await this.client();
    const rows = client.listEntities<Row>({
      queryOptions: {
        filter: `PartitionKey eq ${odataString(toTableKey(engagementId))} and RowKey ge ${odataString(minuteRow(minuteOf(from)))} and RowKey lt ${odataString(minuteRow(new Date(to).toISOString()))}`,
        select: ['metrics'],
      },
    });
    const out: MinuteMetrics[] = [];
    for await (const row of rows) out.push(JSON.parse(row.metrics) as MinuteMetrics);
    return out;
  }
}
