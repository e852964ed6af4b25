import type { TableClient } from '@azure/data-tables';
import { callEventSchema, type CallEvent } from '../../contacts/callEvent.js';
import { odataString } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const OUTCOMES_TABLE = 'Outcomes';

const markerRow = (deliveryId: string, attempt: number) => `o|${deliveryId}|${attempt}`;
/**
 * Rows in the order they were recorded (ISO instants sort lexically in time order), so a reader can
 * continue from the last row it saw without missing an event that was reported late.
 */
const timeRow = (recordedAt: number, deliveryId: string, attempt: number) => `t|${new Date(recordedAt).toISOString()}|${deliveryId}|${attempt}`;

/** Results that say more about how an answered call ended than a plain LiveAnswer does. */
const ANSWERED_ENDINGS: ReadonlySet<CallEvent['result']> = new Set(['Abandoned', 'BotFailed']);

/**
 * Two reports of one attempt, combined: the first report's fields stand and the later one fills what
 * it left out (wait and handle times, the representative, whether it escalated). The one exception is
 * the result: an answered call the agent reported as LiveAnswer at hand-off that the dialer later
 * reports Abandoned (the customer hung up waiting for a representative) or BotFailed ended that way,
 * and the abandonment and failure rules must count it.
 */
export function mergeReports(first: CallEvent, later: CallEvent): CallEvent {
  const merged: Record<string, unknown> = { ...later, ...stripUndefined(first) };
  if (first.result === 'LiveAnswer' && ANSWERED_ENDINGS.has(later.result)) merged['result'] = later.result;
  return callEventSchema.parse(merged);
}

function stripUndefined(event: CallEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined));
}

function isConflict(error: unknown): boolean {
  const code = (error as { details?: { odataError?: { code?: string } } } | null)?.details?.odataError?.code;
  return tableErrorStatus(error) === 409 || code === 'EntityAlreadyExists';
}

/** Recorded events from one read: the events and the row key to continue after. */
export interface OutcomePage {
  readonly events: CallEvent[];
  readonly lastRowKey: string | undefined;
}

/**
 * Outcome events per engagement: a marker row per (delivery, attempt) that makes recording
 * idempotent, and a time-ordered row with the event for the rules' "in the last N minutes" windows.
 * Both are written in one transaction, so an event is either fully recorded or not at all.
 */
export class OutcomeStore {
  constructor(
    private readonly tables: Tables,
    private readonly clock: () => number = Date.now,
  ) {}

  private client(): Promise<TableClient> {
    return this.tables.table(OUTCOMES_TABLE);
  }

  /**
   * Records the outcome of an attempt. The first report of an attempt decides what happens to the
   * delivery (`recorded`); a later report of the same attempt (the agent leg reports the disposition,
   * the dialer the end of the call) only completes it (`merged`: see {@link mergeReports}) or changes
   * nothing (`duplicate`). A merged event is written as a new time row, so incremental readers see it.
   */
  async record(event: CallEvent): Promise<'recorded' | 'merged' | 'duplicate'> {
    const client = await this.client();
    const marker = markerRow(event.deliveryId, event.attempt);
    const row = timeRow(this.clock(), event.deliveryId, event.attempt);
    try {
      await client.submitTransaction([
        ['create', { partitionKey: event.engagementId, rowKey: marker, result: event.result, timeRow: row }],
        ['create', { partitionKey: event.engagementId, rowKey: row, event: JSON.stringify(event) }],
      ]);
      return 'recorded';
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    for (let tries = 0; tries < 3; tries++) {
      const current = await client.getEntity<{ result: string; timeRow: string }>(event.engagementId, marker);
      const stored = callEventSchema.parse(JSON.parse((await client.getEntity<{ event: string }>(event.engagementId, current.timeRow)).event));
      const merged = mergeReports(stored, event);
      if (JSON.stringify(merged) === JSON.stringify(stored)) return 'duplicate';
      const next = timeRow(this.clock(), event.deliveryId, event.attempt);
      try {
        await client.submitTransaction([
          ['update', { partitionKey: event.engagementId, rowKey: marker, result: merged.result, timeRow: next }, 'Replace', { etag: current.etag }],
          ['delete', { partitionKey: event.engagementId, rowKey: current.timeRow }],
          ['create', { partitionKey: event.engagementId, rowKey: next, event: JSON.stringify(merged) }],
        ]);
        return 'merged';
      } catch (error) {
        // Another report merged in between (412) or in the same millisecond (409): read again.
        if (tableErrorStatus(error) !== 412 && !isConflict(error)) throw error;
      }
    }
    return 'duplicate';
  }

  /** Events of an engagement recorded at or after `since` (ms), in recording order. */
  async since(engagementId: string, since: number): Promise<OutcomePage> {
    return this.read(engagementId, `RowKey ge ${odataString(`t|${new Date(since).toISOString()}`)}`);
  }

  /** Events recorded after the row `afterRowKey` (exclusive), in recording order. */
  async after(engagementId: string, afterRowKey: string): Promise<OutcomePage> {
    return this.read(engagementId, `RowKey gt ${odataString(afterRowKey)}`);
  }

  private async read(engagementId: string, lowerBound: string): Promise<OutcomePage> {
    const client = await this.client();
    const events: CallEvent[] = [];
    let lastRowKey: string | undefined;
    const entities = client.listEntities<{ rowKey: string; event: string }>({
      queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)} and ${lowerBound} and RowKey lt 't}'`, select: ['RowKey', 'event'] },
    });
    for await (const entity of entities) {
      events.push(callEventSchema.parse(JSON.parse(entity.event)));
      lastRowKey = entity.rowKey;
    }
    return { events, lastRowKey };
  }
}
