import type { TableClient } from '@azure/data-tables';
import pMap from 'p-map';
import { toTableKey } from './tableKey.js';
import { tableErrorStatus, type Tables } from './tables.js';

export const FREQUENCY_LEDGER_TABLE = 'FrequencyLedger';
/** A week in any zone plus a day of slack: older engagements never count against a limit. */
const RETENTION_MS = 8 * 86_400_000;
const ROW_KEY = 'ledger';
const MAX_UPDATE_ATTEMPTS = 5;

/** One engagement of a contact (a call attempt that reached the dialer), across engagements and channels. */
export interface LedgerEntry {
  readonly at: number;
  readonly engagementId: string;
  /** `<deliveryId>#<attempt>`: recording the same attempt twice counts once. */
  readonly attemptKey: string;
}

interface LedgerEntity {
  partitionKey: string;
  rowKey: string;
  entries: string;
  etag?: string;
}

/**
 * Per-contact counts of recent engagements for frequency limits. One small entity per contact holds
 * the last eight days, so a planning check is one point read and a record is one conditional update.
 */
export class FrequencyLedger {
  constructor(
    private readonly tables: Tables,
    private readonly readConcurrency = 32,
  ) {}

  private client(): Promise<TableClient> {
    return this.tables.table(FREQUENCY_LEDGER_TABLE);
  }

  /** Recent engagement instants per contact; contacts never engaged are absent from the map. */
  async recent(contactIds: readonly string[], now: number): Promise<Map<string, number[]>> {
    const client = await this.client();
    const found = new Map<string, number[]>();
    await pMap(
      contactIds,
      async (contactId) => {
        const entity = await readEntity(client, contactId);
        if (entity === undefined) return;
        const instants = decode(entity.entries)
          .filter((e) => e.at > now - RETENTION_MS)
          .map((e) => e.at);
        if (instants.length > 0) found.set(contactId, instants);
      },
      { concurrency: this.readConcurrency },
    );
    return found;
  }

  /** Adds an engagement for a contact (idempotent by attempt key), pruning entries past retention. */
  async record(contactId: string, entry: LedgerEntry): Promise<void> {
    const client = await this.client();
    for (let attempt = 1; ; attempt++) {
      const current = await readEntity(client, contactId);
      const entries = decode(current?.entries).filter((e) => e.at > entry.at - RETENTION_MS);
      if (entries.some((e) => e.attemptKey === entry.attemptKey)) return;
      entries.push(entry);
      const next = { partitionKey: toTableKey(contactId), rowKey: ROW_KEY, entries: JSON.stringify(entries) };
      try {
        if (current?.etag === undefined) await client.createEntity(next);
        else await client.updateEntity(next, 'Replace', { etag: current.etag });
        return;
      } catch (error) {
        const status = tableErrorStatus(error);
        // 409: created concurrently; 412: changed since read. Re-read and merge.
        if ((status !== 409 && status !== 412) || attempt >= MAX_UPDATE_ATTEMPTS) throw error;
      }
    }
  }
}

async function readEntity(client: TableClient, contactId: string): Promise<LedgerEntity | undefined> {
  try {
    return await client.getEntity<LedgerEntity>(toTableKey(contactId), ROW_KEY);
  } catch (error) {
    if (tableErrorStatus(error) === 404) return undefined;
    throw error;
  }
}

function decode(entries: string | undefined): LedgerEntry[] {
  if (entries === undefined) return [];
  const parsed: unknown = JSON.parse(entries);
  return Array.isArray(parsed) ? (parsed as LedgerEntry[]) : [];
}
