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
/** Time-ordered rows: ISO instants sort lexically in time order. */
const timeRow = (at: string, deliveryId: string, attempt: number) => `t|${new Date(at).toISOString()}|${deliveryId}|${attempt}`;

/**
 * Outcome events per engagement: a marker row per (delivery, attempt) that makes recording
 * idempotent, and a time-ordered row with the event for the rules' "in the last N minutes" windows.
 * Both are written in one transaction, so an event is either fully recorded or not at all.
 */
export class OutcomeStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(OUTCOMES_TABLE);
  }

  /** Records the outcome of an attempt once; returns false when that attempt already has one. */
  async recordOnce(event: CallEvent): Promise<boolean> {
    const client = await this.client();
    try {
      await client.submitTransaction([
        ['create', { partitionKey: event.engagementId, rowKey: markerRow(event.deliveryId, event.attempt), result: event.result }],
        ['create', { partitionKey: event.engagementId, rowKey: timeRow(event.at, event.deliveryId, event.attempt), event: JSON.stringify(event) }],
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

  /** Events of an engagement that ended at or after `since` (ms), oldest first. */
  async since(engagementId: string, since: number): Promise<CallEvent[]> {
    const client = await this.client();
    const events: CallEvent[] = [];
    const from = `t|${new Date(since).toISOString()}`;
    const entities = client.listEntities<{ event: string }>({
      queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)} and RowKey ge ${odataString(from)} and RowKey lt 't}'`, select: ['event'] },
    });
    for await (const entity of entities) events.push(callEventSchema.parse(JSON.parse(entity.event)));
    return events;
  }
}
