import type { TableClient } from '@azure/data-tables';
import { toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const ACCEPTED_TRIGGERS_TABLE = 'AcceptedTriggers';

/**
 * Triggers intake has finished (every batch published), with the summary it answered. A retry or a
 * replay of the trigger answers from here with one point read instead of planning and reserving the
 * page again: exactly once per trigger at the cost of one row per page.
 */
export class AcceptedTriggerStore<Summary extends object> {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(ACCEPTED_TRIGGERS_TABLE);
  }

  async get(engagementId: string, triggerId: string): Promise<Summary | undefined> {
    try {
      const entity = await (await this.client()).getEntity<{ summary: string }>(toTableKey(engagementId), triggerId);
      return JSON.parse(entity.summary) as Summary;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async put(engagementId: string, triggerId: string, summary: Summary, at: number): Promise<void> {
    await (
      await this.client()
    ).upsertEntity(
      { partitionKey: toTableKey(engagementId), rowKey: triggerId, summary: JSON.stringify(summary), acceptedAt: new Date(at).toISOString() },
      'Replace',
    );
  }
}
