import type { TableClient } from '@azure/data-tables';
import { toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';
import type { DeliveryRef, DeliveryRefStore } from '../../dialers/dynamics365/deliveryRefStore.js';

export const DYNAMICS_REFS_TABLE = 'DynamicsDeliveryRefs';

/**
 * The durable {@link DeliveryRefStore}: one entity per delivery, so a repeat dial after a restart or
 * on another instance is still answered without a second Dynamics 365 delivery, and cancel still finds
 * the DeliveryTaskId. Partitioned by the id's first two characters to spread load.
 */
export class TableDeliveryRefStore implements DeliveryRefStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(DYNAMICS_REFS_TABLE);
  }

  private keys(deliveryId: string): { partitionKey: string; rowKey: string } {
    const rowKey = toTableKey(deliveryId);
    return { partitionKey: rowKey.slice(0, 2), rowKey };
  }

  async get(deliveryId: string): Promise<DeliveryRef | undefined> {
    const { partitionKey, rowKey } = this.keys(deliveryId);
    try {
      const e = await (
        await this.client()
      ).getEntity<{ attempt: number; backendRef: string; deliveryTaskId?: string; contactId?: string }>(partitionKey, rowKey);
      return {
        attempt: e.attempt,
        backendRef: e.backendRef,
        ...(e.deliveryTaskId ? { deliveryTaskId: e.deliveryTaskId } : {}),
        ...(e.contactId ? { contactId: e.contactId } : {}),
      };
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async put(deliveryId: string, ref: DeliveryRef): Promise<void> {
    await (
      await this.client()
    ).upsertEntity(
      { ...this.keys(deliveryId), attempt: ref.attempt, backendRef: ref.backendRef, deliveryTaskId: ref.deliveryTaskId ?? '', contactId: ref.contactId ?? '' },
      'Replace',
    );
  }

  async delete(deliveryId: string): Promise<void> {
    const { partitionKey, rowKey } = this.keys(deliveryId);
    try {
      await (await this.client()).deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (tableErrorStatus(error) !== 404) throw error;
    }
  }
}
