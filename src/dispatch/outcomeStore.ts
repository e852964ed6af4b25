import type { TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { CALL_RESULTS } from '../contacts/callResult.js';
import type { CallEvent } from '../dialers/dialerPort.js';
import { odataString } from '../store/tableKey.js';
import { tableErrorStatus, type Tables } from '../store/tables.js';

export const OUTCOMES_TABLE = 'Outcomes';

export const callEventSchema = z.strictObject({
  deliveryId: z.string().min(1).max(128),
  attempt: z.int().min(1).max(100),
  engagementId: z.string().min(1).max(63),
  result: z.enum(CALL_RESULTS),
  at: z.iso.datetime({ offset: true }),
  waitSeconds: z.number().min(0).max(86_400).optional(),
  handleSeconds: z.number().min(0).max(86_400).optional(),
  representativeId: z.string().min(1).max(128).optional(),
  escalated: z.boolean().optional(),
  disposition: z.enum(['interested', 'callback', 'not-interested', 'do-not-contact', 'not-right-party', 'voicemail']).optional(),
  callbackAt: z.iso.datetime({ offset: true }).optional(),
  sipCode: z.int().min(100).max(699).optional(),
}) satisfies z.ZodType<CallEvent>;

const markerRow = (deliveryId: string, attempt: number) => `o|${deliveryId}|${attempt}`;
/**
 * Rows in the order they were recorded (ISO instants sort lexically in time order), so a reader can
 * continue from the last row it saw without missing an event that was reported late.
 */
const timeRow = (recordedAt: number, deliveryId: string, attempt: number) => `t|${new Date(recordedAt).toISOString()}|${deliveryId}|${attempt}`;

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

  /** Records the outcome of an attempt once; returns false when that attempt already has one. */
  async recordOnce(event: CallEvent): Promise<boolean> {
    const client = await this.client();
    try {
      await client.submitTransaction([
        ['create', { partitionKey: event.engagementId, rowKey: markerRow(event.deliveryId, event.attempt), result: event.result }],
        ['create', { partitionKey: event.engagementId, rowKey: timeRow(this.clock(), event.deliveryId, event.attempt), event: JSON.stringify(event) }],
      ]);
      return true;
    } catch (error) {
      const code = (error as { details?: { odataError?: { code?: string } } } | null)?.details?.odataError?.code;
      if (tableErrorStatus(error) === 409 || code === 'EntityAlreadyExists') return false;
      throw error;
    }
  }

  /** The result recorded for an attempt, if any. */
  async resultOf(engagementId: string, deliveryId: string, attempt: number): Promise<string | undefined> {
    const client = await this.client();
    try {
      const entity = await client.getEntity<{ result: string }>(engagementId, markerRow(deliveryId, attempt));
      return entity.result;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
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
