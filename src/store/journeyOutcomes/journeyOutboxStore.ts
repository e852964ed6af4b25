import type { TableClient } from '@azure/data-tables';
import type { JourneyOutcome } from '../../journeyOutcomes/journeyOutcome.js';
import { odataString, toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const JOURNEY_OUTBOX_TABLE = 'JourneyOutbox';

/** `pending` waits for its time; `sending` is claimed by a drain until `claimUntil`; `sent` and `failed` are final. */
export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed';

export interface OutboxItem {
  readonly outcome: JourneyOutcome;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly claimUntil: number;
  readonly lastError: string | null;
  readonly sentAt: string | null;
  readonly etag: string;
}

export interface OutboxSummary {
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
  /** The latest failures: delivery id and error, newest first. */
  readonly recentFailures: readonly { readonly deliveryId: string; readonly error: string; readonly at: string }[];
  readonly lastError: string | null;
}

interface Entity {
  partitionKey: string;
  rowKey: string;
  outcome: string;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  claimUntil: number;
  lastError?: string;
  sentAt?: string;
  updatedAt: string;
}

/**
 * The journey-outcome outbox in Table Storage: one row per (engagement, delivery), so a delivery's end
 * is enqueued once however often its final outcome is recorded again. Every state change is
 * ETag-conditional: two drains never both send a row; a drain that dies mid-send leaves a claim that
 * expires, and the row is sent again (never lost).
 */
export class JourneyOutboxStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(JOURNEY_OUTBOX_TABLE);
  }

  /** Adds the outcome unless its delivery is already in the outbox. */
  async enqueue(outcome: JourneyOutcome, now: number = Date.now()): Promise<'enqueued' | 'exists'> {
    const client = await this.client();
    try {
      await client.createEntity<Entity>({
        partitionKey: outcome.engagementId,
        rowKey: toTableKey(outcome.deliveryId),
        outcome: JSON.stringify(outcome),
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        claimUntil: 0,
        updatedAt: new Date(now).toISOString(),
      });
      return 'enqueued';
    } catch (error) {
      if (tableErrorStatus(error) === 409) return 'exists';
      throw error;
    }
  }

  /** Rows due now: pending ones whose time has come, and sends whose claim expired (a drain died). */
  async due(now: number, limit: number): Promise<OutboxItem[]> {
    const client = await this.client();
    const filter = `(state eq 'pending' and nextAttemptAt le ${now}) or (state eq 'sending' and claimUntil le ${now})`;
    const items: OutboxItem[] = [];
    for await (const entity of client.listEntities<Entity>({ queryOptions: { filter } })) {
      items.push(fromEntity(entity));
      if (items.length >= limit) break;
    }
    return items.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
  }

  /** Takes the row for one send until `claimUntil`; undefined when another drain changed it first. */
  async claim(item: OutboxItem, now: number, claimMs: number): Promise<OutboxItem | undefined> {
    return this.update(item, { state: 'sending', attempts: item.attempts + 1, claimUntil: now + claimMs }, now);
  }

  async markSent(item: OutboxItem, now: number): Promise<boolean> {
    return (await this.update(item, { state: 'sent', sentAt: new Date(now).toISOString(), lastError: '' }, now)) !== undefined;
  }

  async reschedule(item: OutboxItem, nextAttemptAt: number, error: string, now: number): Promise<boolean> {
    return (await this.update(item, { state: 'pending', nextAttemptAt, lastError: error }, now)) !== undefined;
  }

  async markFailed(item: OutboxItem, error: string, now: number): Promise<boolean> {
    return (await this.update(item, { state: 'failed', lastError: error }, now)) !== undefined;
  }

  async get(engagementId: string, deliveryId: string): Promise<OutboxItem | undefined> {
    const client = await this.client();
    try {
      return fromEntity(await client.getEntity<Entity>(engagementId, toTableKey(deliveryId)));
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** Counts by state and the latest failures, for the engagement status. */
  async summary(engagementId: string): Promise<OutboxSummary> {
    const client = await this.client();
    let pending = 0;
    let sent = 0;
    let failed = 0;
    let lastError: { error: string; at: string } | undefined;
    const failures: { deliveryId: string; error: string; at: string }[] = [];
    const rows = client.listEntities<Entity>({
      queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)}`, select: ['RowKey', 'state', 'lastError', 'updatedAt', 'outcome'] },
    });
    for await (const row of rows) {
      if (row.state === 'sent') sent++;
      else if (row.state === 'failed') {
        failed++;
        failures.push({ deliveryId: (JSON.parse(row.outcome) as JourneyOutcome).deliveryId, error: row.lastError ?? '', at: row.updatedAt });
      } else pending++;
      if (row.lastError !== undefined && row.lastError !== '' && (lastError === undefined || row.updatedAt > lastError.at)) {
        lastError = { error: row.lastError, at: row.updatedAt };
      }
    }
    return {
      pending,
      sent,
      failed,
      recentFailures: failures.sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 10),
      lastError: lastError?.error ?? null,
    };
  }

  private async update(item: OutboxItem, changes: Partial<Entity>, now: number): Promise<OutboxItem | undefined> {
    const client = await this.client();
    const partitionKey = item.outcome.engagementId;
    const rowKey = toTableKey(item.outcome.deliveryId);
    try {
      const response = await client.updateEntity({ partitionKey, rowKey, ...changes, updatedAt: new Date(now).toISOString() }, 'Merge', { etag: item.etag });
      return {
        ...item,
        ...(changes.state === undefined ? {} : { state: changes.state }),
        ...(changes.attempts === undefined ? {} : { attempts: changes.attempts }),
        ...(changes.claimUntil === undefined ? {} : { claimUntil: changes.claimUntil }),
        ...(changes.nextAttemptAt === undefined ? {} : { nextAttemptAt: changes.nextAttemptAt }),
        etag: response.etag ?? '',
      };
    } catch (error) {
      if (tableErrorStatus(error) === 412) return undefined;
      throw error;
    }
  }
}

function fromEntity(entity: Entity & { etag?: string }): OutboxItem {
  return {
    outcome: JSON.parse(entity.outcome) as JourneyOutcome,
    state: entity.state,
    attempts: entity.attempts,
    nextAttemptAt: Number(entity.nextAttemptAt),
    claimUntil: Number(entity.claimUntil),
    lastError: entity.lastError === undefined || entity.lastError === '' ? null : entity.lastError,
    sentAt: entity.sentAt ?? null,
    etag: entity.etag ?? '',
  };
}
