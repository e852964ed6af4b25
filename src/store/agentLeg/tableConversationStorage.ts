import type { TableClient } from '@azure/data-tables';
import type { Storage, StoreItem } from '@microsoft/agents-hosting';
import { createHash } from 'node:crypto';
import { tableErrorStatus, type Tables } from '../tables.js';

export const CONVERSATION_STATE_TABLE = 'AgentLegState';

/** Bytes per binary property: Table Storage allows 64 KiB per property. */
const PART_BYTES = 60_000;
/** Parts per entity: 15 x 60,000 bytes is 900 KB, under the entity's 1 MiB with the keys. */
export const MAX_STATE_PARTS = 15;
/** The largest state (UTF-8 bytes of its JSON) one conversation may keep. */
export const MAX_STATE_BYTES = PART_BYTES * MAX_STATE_PARTS;

/** A conversation state too large to store: a caller's input made it so, retrying cannot help. */
export class ConversationStateTooLarge extends Error {
  constructor(key: string, bytes: number) {
    super(`conversation state "${key}" is ${bytes} bytes; at most ${MAX_STATE_BYTES} can be stored`);
    this.name = 'ConversationStateTooLarge';
  }
}

/**
 * The state's UTF-8 bytes split over binary properties `part0` ... `part14`: one string property holds
 * at most 32K characters, and a legitimate state (a long transcript) is larger. Binary, not text,
 * parts: a split never falls inside a character, and bytes are counted as the service counts them.
 */
function toParts(bytes: Buffer): Record<string, Uint8Array> {
  const parts: Record<string, Uint8Array> = {};
  for (let i = 0; i * PART_BYTES < bytes.length || i === 0; i++) parts[`part${i}`] = bytes.subarray(i * PART_BYTES, (i + 1) * PART_BYTES);
  return parts;
}

/** The stored JSON: the parts joined, or the single `value` string an earlier version wrote. */
function fromParts(entity: Record<string, unknown>): string {
  if (typeof entity['value'] === 'string') return entity['value'];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < MAX_STATE_PARTS && entity[`part${i}`] instanceof Uint8Array; i++) parts.push(entity[`part${i}`] as Uint8Array);
  return Buffer.concat(parts).toString('utf8');
}

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
          const entity = await client.getEntity<Record<string, unknown> & { key: string }>(partitionKey, rowKey);
          if (entity.key === key) out[key] = { ...(JSON.parse(fromParts(entity)) as object), eTag: entity.etag };
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
      const bytes = Buffer.from(JSON.stringify(value), 'utf8');
      if (bytes.length > MAX_STATE_BYTES) throw new ConversationStateTooLarge(key, bytes.length);
      // 'Replace' drops parts a shorter state no longer has.
      const entity = { ...this.keys(key), key, ...toParts(bytes) };
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
