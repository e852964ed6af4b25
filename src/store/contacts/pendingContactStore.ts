import type { TableClient } from '@azure/data-tables';
import { fromTableKey, odataString, toTableKey } from '../tableKey.js';
import { tableErrorStatus, upsertAll, type Tables } from '../tables.js';

export const PENDING_CONTACTS_TABLE = 'PendingContacts';

export interface PendingContact {
  readonly contactId: string;
  readonly triggerId: string;
  readonly deliveryId: string;
}

/**
 * Which contacts are pending (accepted, not yet finished) in each engagement, so a contact is not
 * queued twice for the same engagement. Intake marks contacts after their batches are published;
 * dispatch clears them when their delivery reaches a final outcome.
 */
export class PendingContactStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(PENDING_CONTACTS_TABLE);
  }

  /** Contact id -> trigger id for every pending contact of the engagement (one partition scan). */
  async byEngagement(engagementId: string): Promise<Map<string, string>> {
    const client = await this.client();
    const pending = new Map<string, string>();
    const entities = client.listEntities<{ rowKey: string; triggerId: string }>({
      queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)}`, select: ['RowKey', 'triggerId'] },
    });
    for await (const entity of entities) pending.set(fromTableKey(entity.rowKey), entity.triggerId);
    return pending;
  }

  async markPending(engagementId: string, contacts: readonly PendingContact[]): Promise<void> {
    const client = await this.client();
    await upsertAll(
      client,
      contacts.map((c) => ({ partitionKey: engagementId, rowKey: toTableKey(c.contactId), triggerId: c.triggerId, deliveryId: c.deliveryId })),
    );
  }

  /** Clears a contact once its delivery is finished; only the delivery that marked it may clear it. */
  async clear(engagementId: string, contactId: string, deliveryId: string): Promise<void> {
    const client = await this.client();
    try {
      const entity = await client.getEntity<{ deliveryId: string }>(engagementId, toTableKey(contactId));
      if (entity.deliveryId !== deliveryId) return;
      await client.deleteEntity(engagementId, toTableKey(contactId), { etag: entity.etag });
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status !== 404 && status !== 412) throw error;
    }
  }
}
