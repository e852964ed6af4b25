import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import pMap from 'p-map';
import { fromTableKey, toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const FREQUENCY_LEDGER_TABLE = 'FrequencyLedger';
/** A week in any zone plus a day of slack: older engagements never count against a limit. */
const RETENTION_MS = 8 * 86_400_000;
const MAX_UPDATE_ATTEMPTS = 5;
/** Contacts are spread over 256 partitions by a hash of their id, so a page can be checked by scanning them in parallel. */
const BUCKETS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** From this many contacts on, one scan of the recent ledger beats a point read per contact. */
export const LEDGER_SCAN_THRESHOLD = 2_000;

function bucketOf(contactId: string): string {
  return createHash('sha256').update(contactId).digest('hex').slice(0, 2);
}

/** One engagement of a contact (a call attempt that reached the dialer), across engagements and channels. */
export interface LedgerEntry {
  readonly at: number;
  readonly engagementId: string;
  /** `<deliveryId>#<attempt>`: recording the same attempt twice counts once. */
  readonly attemptKey: string;
}

type LedgerEntity = {
  partitionKey: string;
  rowKey: string;
  entries: string;
  /** The newest entry: a scan skips contacts not engaged within the retention. */
  lastAt: number;
  etag?: string;
};

/**
 * Per-contact counts of recent engagements for frequency limits. One small entity per contact holds
 * the last eight days; a record is one conditional update. A small trigger is checked with a point read
 * per contact; a large page with one parallel scan of the contacts engaged within the retention, whose
 * cost follows the recent call volume rather than the page size.
 */
export class FrequencyLedgerStore {
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
    const keep = (contactId: string, entries: string) => {
      const instants = decode(entries)
        .filter((e) => e.at > now - RETENTION_MS)
        .map((e) => e.at);
      if (instants.length > 0) found.set(contactId, instants);
    };
    if (contactIds.length < LEDGER_SCAN_THRESHOLD) {
      await pMap(
        contactIds,
        async (contactId) => {
          const entity = await readEntity(client, contactId);
          if (entity !== undefined) keep(contactId, entity.entries);
        },
        { concurrency: this.readConcurrency },
      );
      return found;
    }
    const wanted = new Set(contactIds);
    await pMap(
      BUCKETS,
      async (bucket) => {
        const entities = client.listEntities<{ rowKey: string; entries: string }>({
          queryOptions: { filter: `PartitionKey eq '${bucket}' and lastAt gt ${now - RETENTION_MS}`, select: ['RowKey', 'entries'] },
        });
        for await (const entity of entities) {
          const contactId = fromTableKey(entity.rowKey);
          if (wanted.has(contactId)) keep(contactId, entity.entries);
        }
      },
      { concurrency: this.readConcurrency },
    );
    return found;
  }

  /** Adds an engagement for a contact (idempotent by attempt key), pruning entries past retention. */
  async record(contactId: string, entry: LedgerEntry): Promise<void> {
    await this.claim(contactId, entry, () => true);
  }

  /**
   * Adds an engagement only if `allows` accepts the contact's recent engagement instants, in one
   * conditional write: two engagements dialing the same contact at the same moment cannot both pass
   * a limit of one. An attempt already in the ledger (a claim handed over again) is allowed as it is.
   * Returns whether the entry is in the ledger, and the instants it was judged on.
   */
  async claim(contactId: string, entry: LedgerEntry, allows: (instants: readonly number[]) => boolean): Promise<{ claimed: boolean; instants: number[] }> {
    const client = await this.client();
    for (let attempt = 1; ; attempt++) {
      const current = await readEntity(client, contactId);
      const entries = decode(current?.entries).filter((e) => e.at > entry.at - RETENTION_MS);
      const instants = entries.map((e) => e.at);
      if (entries.some((e) => e.attemptKey === entry.attemptKey)) return { claimed: true, instants };
      if (!allows(instants)) return { claimed: false, instants };
      entries.push(entry);
      try {
        await write(client, contactId, entries, current?.etag);
        return { claimed: true, instants };
      } catch (error) {
        const status = tableErrorStatus(error);
        // 409: created concurrently; 412: changed since read. Re-read and decide again.
        if ((status !== 409 && status !== 412) || attempt >= MAX_UPDATE_ATTEMPTS) throw error;
      }
    }
  }

  /** The contact's entries after `since` (ms), across engagements: which attempts reached it recently. */
  async entries(contactId: string, since: number): Promise<LedgerEntry[]> {
    const current = await readEntity(await this.client(), contactId);
    return decode(current?.entries).filter((e) => e.at > since);
  }

  /** Removes an attempt claimed at dial time that did not engage the contact (cancelled, invalid number, refused). */
  async forget(contactId: string, attemptKey: string): Promise<void> {
    const client = await this.client();
    for (let attempt = 1; ; attempt++) {
      const current = await readEntity(client, contactId);
      const entries = decode(current?.entries);
      if (current?.etag === undefined || !entries.some((e) => e.attemptKey === attemptKey)) return;
      try {
        await write(
          client,
          contactId,
          entries.filter((e) => e.attemptKey !== attemptKey),
          current.etag,
        );
        return;
      } catch (error) {
        if (tableErrorStatus(error) !== 412 || attempt >= MAX_UPDATE_ATTEMPTS) throw error;
      }
    }
  }
}

async function write(client: TableClient, contactId: string, entries: readonly LedgerEntry[], etag: string | undefined): Promise<void> {
  const next: LedgerEntity = {
    partitionKey: bucketOf(contactId),
    rowKey: toTableKey(contactId),
    entries: JSON.stringify(entries),
    lastAt: Math.max(0, ...entries.map((e) => e.at)),
  };
  if (etag === undefined) await client.createEntity(next);
  else await client.updateEntity(next, 'Replace', { etag });
}

async function readEntity(client: TableClient, contactId: string): Promise<LedgerEntity | undefined> {
  try {
    return await client.getEntity<LedgerEntity>(bucketOf(contactId), toTableKey(contactId));
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
