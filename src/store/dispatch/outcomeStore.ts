import type { TableClient, TransactionAction } from '@azure/data-tables';
import { callEventSchema, type CallEvent } from '../../contacts/callEvent.js';
import { toFieldIssues, UserError } from '../../errors.js';
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
  /** Rows that could not be read as events (written by an older version, or damaged); skipped, and reported. */
  readonly skipped?: number;
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
    private readonly report: (line: string) => void = (line) => console.warn(line),
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
    // A row every reader would reject must never be written: it would stop pacing for the engagement.
    const valid = callEventSchema.safeParse(event);
    if (!valid.success) throw new UserError('InvalidRequest', 'the outcome cannot be stored', toFieldIssues(valid.error));
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
      const read = readEvent((await client.getEntity<{ event: string }>(event.engagementId, current.timeRow)).event);
      // A stored row no reader accepts is replaced by this valid report rather than merged with.
      const merged = read.ok ? mergeReports(read.value, event) : valid.data;
      if (read.ok && JSON.stringify(merged) === JSON.stringify(read.value)) return 'duplicate';
      const next = timeRow(this.clock(), event.deliveryId, event.attempt);
      const markerUpdate: TransactionAction = [
        'update',
        { partitionKey: event.engagementId, rowKey: marker, result: merged.result, timeRow: next },
        'Replace',
        { etag: current.etag },
      ];
      try {
        // Within the same millisecond the time row keeps its key: a delete and a create of one row in one
        // transaction is refused by Table Storage, so it is replaced in place.
        await client.submitTransaction(
          next === current.timeRow
            ? [markerUpdate, ['update', { partitionKey: event.engagementId, rowKey: next, event: JSON.stringify(merged) }, 'Replace']]
            : [
                markerUpdate,
                ['delete', { partitionKey: event.engagementId, rowKey: current.timeRow }],
                ['create', { partitionKey: event.engagementId, rowKey: next, event: JSON.stringify(merged) }],
              ],
        );
        return 'merged';
      } catch (error) {
        // Another report merged in between (412) or in the same millisecond (409): read again.
        if (tableErrorStatus(error) !== 412 && !isConflict(error)) throw error;
      }
    }
    return 'duplicate';
  }

  /** Whether a report of this attempt has been recorded. */
  async has(engagementId: string, deliveryId: string, attempt: number): Promise<boolean> {
    const client = await this.client();
    try {
      await client.getEntity(engagementId, markerRow(deliveryId, attempt), { queryOptions: { select: ['RowKey'] } });
      return true;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return false;
      throw error;
    }
  }

  /** The recorded outcome of one attempt (merged reports as one), or `undefined` when none was recorded. */
  async get(engagementId: string, deliveryId: string, attempt: number): Promise<CallEvent | undefined> {
    const client = await this.client();
    try {
      const marker = await client.getEntity<{ timeRow: string }>(engagementId, markerRow(deliveryId, attempt));
      const read = readEvent((await client.getEntity<{ event: string }>(engagementId, marker.timeRow)).event);
      return read.ok ? read.value : undefined;
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
    let skipped = 0;
    for await (const entity of entities) {
      lastRowKey = entity.rowKey;
      const event = readEvent(entity.event);
      if (event.ok) {
        events.push(event.value);
        continue;
      }
      skipped++;
      // The row key names the delivery and attempt, never the contact; the issue names fields, not values.
      this.report(`outcome row ${engagementId}/${entity.rowKey} skipped: ${event.problem}`);
    }
    return skipped === 0 ? { events, lastRowKey } : { events, lastRowKey, skipped };
  }
}

function readEvent(text: unknown): { ok: true; value: CallEvent } | { ok: false; problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(String(text));
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = callEventSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    problem: toFieldIssues(parsed.error)
      .map((i) => `${i.path}: ${i.message}`)
      .join('; ')
      .slice(0, 500),
  };
}
