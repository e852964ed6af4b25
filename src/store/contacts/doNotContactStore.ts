import { createHash, createHmac } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import pMap from 'p-map';
import { fromTableKey, toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';
import { digestHalves, GrowingBloomFilter } from './bloomFilter.js';

export const DO_NOT_CONTACT_TABLE = 'DoNotContact';
/** The development default for DNC_HASH_KEY (Azure requires a setting); public, so never for real lists. */
export const DEVELOPMENT_DNC_HASH_KEY = 'development-only-do-not-contact-hash-key';
/** Filter false-positive rate: at 10M numbers about 18 MB, and one point read per thousand clean numbers. */
const FALSE_POSITIVE_RATE = 0.001;
/** Lists up to this size are rebuilt before answering when another instance changed them; larger ones in the background. */
const BLOCKING_REBUILD_MAX = 100_000;
/** Parallel point reads confirming filter hits. */
const CONFIRM_CONCURRENCY = 32;
const CONTACT_PARTITION = 'contact';
const META_PARTITION = '~meta';
const VERSION_ROW = 'version';

/** A do-not-contact entry is either an E.164 number or a contact id. */
export type DoNotContactKey = { readonly phone: string } | { readonly contactId: string };

interface Entry {
  partitionKey: string;
  rowKey: string;
  reason: string;
  addedAt: string;
  source: string;
}

/** The planning form of a key: the E.164 number itself, or `contact:<id>`. */
export function planningKey(key: DoNotContactKey): string {
  return 'phone' in key ? key.phone : `contact:${key.contactId}`;
}

function fromPlanningKey(key: string): DoNotContactKey {
  return key.startsWith('contact:') ? { contactId: key.slice('contact:'.length) } : { phone: key };
}

/**
 * The do-not-contact list in Table Storage, built for lists of millions of numbers.
 *
 * Numbers are stored under a keyed hash (HMAC-SHA256 with DNC_HASH_KEY), never as themselves: the row
 * key is the hex digest, the partition its first two characters (256 partitions, so point reads spread).
 * Contact ids are not secret and keep their own partition.
 *
 * Planning asks about whole pages at once ({@link matching}) against a Bloom filter of the list held in
 * memory (about 1.8 bytes per entry), and confirms the filter's hits with point reads: the cost of a page
 * follows the page, not the list. The filter is built once per instance from the row keys and rebuilt
 * when the list's version row changes (its etag, checked at most every `snapshotTtlMs`); changes made
 * through this instance are in it at once. Dial time checks single keys with point reads
 * ({@link contains}), so an addition is honoured there at once whatever the filter's age.
 */
export class DoNotContactStore {
  private filter: { bloom: GrowingBloomFilter; version: string | undefined; checkedAt: number } | undefined;
  private building: Promise<void> | undefined;
  private readonly hmacKey: Buffer;

  constructor(
    private readonly tables: Tables,
    private readonly snapshotTtlMs = 60_000,
    private readonly clock: () => number = Date.now,
    hashKey: string = DEVELOPMENT_DNC_HASH_KEY,
  ) {
    this.hmacKey = Buffer.from(hashKey, 'utf8');
  }

  private client(): Promise<TableClient> {
    return this.tables.table(DO_NOT_CONTACT_TABLE);
  }

  /** The row of a key: numbers by their keyed hash, contact ids as themselves. */
  private entityKeys(key: DoNotContactKey): { partitionKey: string; rowKey: string; digest: string } {
    if ('phone' in key) {
      const digest = createHmac('sha256', this.hmacKey).update(key.phone).digest('hex');
      return { partitionKey: `p${digest.slice(0, 2)}`, rowKey: digest, digest };
    }
    return { partitionKey: CONTACT_PARTITION, rowKey: toTableKey(key.contactId), digest: contactDigest(key.contactId) };
  }

  async add(key: DoNotContactKey, reason: string, source: string): Promise<void> {
    const { partitionKey, rowKey, digest } = this.entityKeys(key);
    const entity: Entry = { partitionKey, rowKey, reason, source, addedAt: new Date(this.clock()).toISOString() };
    const client = await this.client();
    await client.upsertEntity(entity, 'Replace');
    this.filter?.bloom.add(...digestHalves(digest));
    await this.bumpVersion(client);
  }

  async remove(key: DoNotContactKey): Promise<void> {
    const { partitionKey, rowKey } = this.entityKeys(key);
    const client = await this.client();
    try {
      await client.deleteEntity(partitionKey, rowKey);
    } catch (error) {
      if (tableErrorStatus(error) !== 404) throw error;
      return;
    }
    // The filter keeps the bits (a Bloom filter cannot forget); the point read that confirms a hit says no.
    await this.bumpVersion(client);
  }

  /** Point check of one key (dial time). */
  async contains(key: DoNotContactKey): Promise<boolean> {
    const { partitionKey, rowKey } = this.entityKeys(key);
    return this.exists(await this.client(), partitionKey, rowKey);
  }

  /**
   * Which of these planning keys (E.164 numbers, `contact:<id>`) are on the list: a filter check each,
   * and a point read for each hit. Reads nothing else, whatever the list's size.
   */
  async matching(keys: Iterable<string>): Promise<ReadonlySet<string>> {
    const bloom = await this.currentFilter();
    const hits: { key: string; partitionKey: string; rowKey: string }[] = [];
    for (const key of new Set(keys)) {
      const { partitionKey, rowKey, digest } = this.entityKeys(fromPlanningKey(key));
      if (bloom.mayContain(...digestHalves(digest))) hits.push({ key, partitionKey, rowKey });
    }
    const found = new Set<string>();
    if (hits.length === 0) return found;
    const client = await this.client();
    await pMap(
      hits,
      async ({ key, partitionKey, rowKey }) => {
        if (await this.exists(client, partitionKey, rowKey)) found.add(key);
      },
      { concurrency: CONFIRM_CONCURRENCY },
    );
    return found;
  }

  /** Entries the instance's filter holds (for figures; includes entries removed since it was built). */
  async filterStats(): Promise<{ entries: number; bytes: number }> {
    const bloom = await this.currentFilter();
    return { entries: bloom.count, bytes: bloom.bytes };
  }

  private async exists(client: TableClient, partitionKey: string, rowKey: string): Promise<boolean> {
    try {
      await client.getEntity(partitionKey, rowKey, { queryOptions: { select: ['RowKey'] } });
      return true;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return false;
      throw error;
    }
  }

  /** Every change replaces the version row, so its etag tells other instances their filter is stale. */
  private async bumpVersion(client: TableClient): Promise<void> {
    await client.upsertEntity({ partitionKey: META_PARTITION, rowKey: VERSION_ROW, changedAt: new Date(this.clock()).toISOString() }, 'Replace');
  }

  private async version(client: TableClient): Promise<string | undefined> {
    try {
      return (await client.getEntity(META_PARTITION, VERSION_ROW, { queryOptions: { select: ['RowKey'] } })).etag;
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  private async currentFilter(): Promise<GrowingBloomFilter> {
    const now = this.clock();
    const held = this.filter;
    if (held !== undefined && now - held.checkedAt < this.snapshotTtlMs) return held.bloom;
    const client = await this.client();
    const version = await this.version(client);
    if (held !== undefined && version === held.version) {
      held.checkedAt = now;
      return held.bloom;
    }
    this.building ??= this.build(client, version).finally(() => {
      this.building = undefined;
    });
    // A large list keeps answering from the filter it has while the new one is built; dial time is exact meanwhile.
    if (held !== undefined && held.bloom.count > BLOCKING_REBUILD_MAX) return held.bloom;
    await this.building;
    return (this.filter ?? held)?.bloom ?? new GrowingBloomFilter();
  }

  /**
   * Streams every row key once (no other property) into a new filter, first sized for the list the
   * instance knew before, so a rebuild is usually one layer.
   */
  private async build(client: TableClient, version: string | undefined): Promise<void> {
    const bloom = new GrowingBloomFilter(GrowingBloomFilter.firstCapacityFor(this.filter?.bloom.count ?? 0), FALSE_POSITIVE_RATE);
    const rows = client.listEntities<{ partitionKey: string; rowKey: string }>({ queryOptions: { select: ['PartitionKey', 'RowKey'] } });
    for await (const row of rows) {
      // Rows under any other partition (the version row, rows of an older layout) are not entries.
      if (row.partitionKey === CONTACT_PARTITION) bloom.add(...digestHalves(contactDigest(fromTableKey(row.rowKey))));
      else if (/^p[0-9a-f]{2}$/.test(row.partitionKey)) bloom.add(...digestHalves(row.rowKey));
    }
    this.filter = { bloom, version, checkedAt: this.clock() };
  }
}

/** Contact ids are not secret: a plain hash places them in the filter. */
function contactDigest(contactId: string): string {
  return createHash('sha256').update(`contact:${contactId}`).digest('hex');
}
