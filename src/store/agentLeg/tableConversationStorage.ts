import type { TableClient } from '@azure/data-tables';
import type { Storage, StoreItem } from '@microsoft/agents-hosting';
import { createHash } from 'node:crypto';
import { tableErrorStatus, type Tables } from '../tables.js';

export const CONVERSATION_STATE_TABLE = 'AgentLegState';

/**
 * Agents SDK conversation state in Table Storage, so a call's state survives the worker that served
 * its last turn (Functions scale out; any instance may take the next turn). Optimistic concurrency as
 * the SDK's MemoryStorage defines it: an item written with an eTag other than '*' must match the
 * stored one, or the write fails.
 */
export class TableConversationStorage implements Storage {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(CONVERSATION_STATE_TABLE);
  }

  /** Keys hold '/' and may be long: a hash is the row key, the key itself is kept to detect collisions. */
  private keys(key: string): { partitionKey: string; rowKey: string } {
    const hash = createHash('sha256').update(key).digest('hex');
    return { partitionKey: hash.slice(0, 2), rowKey: hash };
  }

  async read(keys: string[]): Promise<StoreItem> {
    if (keys.length === 0) throw new ReferenceError('storage read needs at least one key');
    const client = await this.client();
    const out: StoreItem = {};
    await Promise.all(
      keys.map(async (key) => {
        const { partitionKey, rowKey } = this.keys(key);
        try {
          const entity = await client.getEntity<{ key: string; value: string }>(partitionKey, rowKey);
          if (entity.key === key) out[key] = { ...(JSON.parse(entity.value) as object), eTag: entity.etag };
        } catch (error) {
          if (tableErrorStatus(error) !== 404) throw error;
        }
      }),
    );
    return out;
  }

  async write(changes: StoreItem): Promise<void> {
    const entries = Object.entries(changes);
    if (entries.length === 0) throw new ReferenceError('storage write needs at least one change');
    const client = await this.client();
    for (const [key, item] of entries) {
      const { eTag, ...value } = (item ?? {}) as { eTag?: string } & Record<string, unknown>;
      const entity = { ...this.keys(key), key, value: JSON.stringify(value) };
      try {
        if (eTag === undefined || eTag === '*') await client.upsertEntity(entity, 'Replace');
        else await client.updateEntity(entity, 'Replace', { etag: eTag });
      } catch (error) {
        const status = tableErrorStatus(error);
        if (status === 412 || status === 404) throw new Error(`eTag conflict writing conversation state "${key}"`, { cause: error });
        throw error;
      }
    }
  }

  async delete(keys: string[]): Promise<void> {
    const client = await this.client();
    for (const key of keys) {
      const { partitionKey, rowKey } = this.keys(key);
      try {
        await client.deleteEntity(partitionKey, rowKey);
      } catch (error) {
        if (tableErrorStatus(error) !== 404) throw error;
      }
    }
  }
}
