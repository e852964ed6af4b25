import type { TableClient } from '@azure/data-tables';
import { fromTableKey, odataString, toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const DO_NOT_CONTACT_TABLE = 'DoNotContact';

/** A do-not-contact entry is either an E.164 number or a contact id. */
export type DoNotContactKey = { readonly phone: string } | { readonly contactId: string };

interface Entry {
  partitionKey: 'phone' | 'contact';
  rowKey: string;
  reason: string;
  addedAt: string;
  source: string;
}

function entityKeys(key: DoNotContactKey): { partitionKey: 'phone' | 'contact'; rowKey: string } {
  return 'phone' in key ? { partitionKey: 'phone', rowKey: key.phone } : { partitionKey: 'contact', rowKey: toTableKey(key.contactId) };
}

/** The planning form of a key: the E.164 number itself, or `contact:<id>`. */
export function planningKey(key: DoNotContactKey): string {
  return 'phone' in key ? key.phone : `contact:${key.contactId}`;
}

/**
 * The do-not-contact list in Table Storage. Planning checks whole pages against a snapshot of the
 * list (one partition scan, cached for `snapshotTtlMs`) instead of a read per number; the dialer checks
 * single numbers at dial time with point reads, so an addition is honoured at dial time at once and
 * by planning within the snapshot's TTL.
 */
export class DoNotContactStore {
  private snapshot: { at: number; keys: Set<string> } | undefined;
  private loading: Promise<Set<string>> | undefined;

  constructor(
    private readonly tables: Tables,
    private readonly snapshotTtlMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  private client(): Promise<TableClient> {
    return this.tables.table(DO_NOT_CONTACT_TABLE);
  }

  async add(key: DoNotContactKey, reason: string, source: string): Promise<void> {
    const entity: Entry = { ...entityKeys(key), reason, source, addedAt: new Date(this.clock()).toISOString() };
    await (await this.client()).upsertEntity(entity, 'Replace');
    this.snapshot?.keys.add(planningKey(key));
  }

  async remove(key: DoNotContactKey): Promise<void> {
    const { partitionKey, rowKey } = entityKeys(key);
    try {
      await (await this.client()).deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (tableErrorStatus(error) !== 404) throw error;
    }
    this.snapshot?.keys.delete(planningKey(key));
  }

  /** Point check of one key (dial time). */
  async contains(key: DoNotContactKey): Promise<boolean> {
    const { partitionKey, rowKey } = entityKeys(key);
    try {
      await (await this.client()).getEntity(partitionKey, rowKey, { queryOptions: { select: ['RowKey'] } });
      return true;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return false;
      throw error;
    }
  }

  /** Every key on the list in planning form, from a snapshot at most `snapshotTtlMs` old. */
  async keys(): Promise<ReadonlySet<string>> {
    const now = this.clock();
    if (this.snapshot !== undefined && now - this.snapshot.at < this.snapshotTtlMs) return this.snapshot.keys;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    const keys = await this.loading;
    this.snapshot = { at: now, keys };
    return keys;
  }

  private async load(): Promise<Set<string>> {
    const keys = new Set<string>();
    const client = await this.client();
    for (const partition of ['phone', 'contact'] as const) {
      const entities = client.listEntities<{ rowKey: string }>({
        queryOptions: { filter: `PartitionKey eq ${odataString(partition)}`, select: ['RowKey'] },
      });
      for await (const entity of entities) {
        keys.add(partition === 'phone' ? entity.rowKey : `contact:${fromTableKey(entity.rowKey)}`);
      }
    }
    return keys;
  }
}
