import type { TableClient } from '@azure/data-tables';
import { tableErrorStatus, type Tables } from '../tables.js';
import { PACING_TABLE } from './pacingStateStore.js';

const PARTITION = 'lease';
const GROUP_PREFIX = 'group|';
const INSTANCE_PREFIX = 'instance|';
/** Row keys may not hold / \ # ? or control characters; group keys are queue names. */
const rowKeyOf = (prefix: string, name: string): string => `${prefix}${encodeURIComponent(name)}`;

/** A lease row as read: who holds the group and until when (epoch ms), with the etag a take or renewal is conditional on. */
export interface LeaseRow {
  readonly group: string;
  readonly owner: string;
  readonly expiresAt: number;
  readonly etag: string;
}

/** A lease this instance holds: renewing or releasing it is conditional on `etag`, so a lease taken over in between is never touched. */
export interface HeldLease {
  readonly group: string;
  readonly expiresAt: number;
  readonly etag: string;
}

/** Every group lease and every instance's heartbeat: one partition read. */
export interface LeaseTable {
  readonly leases: readonly LeaseRow[];
  /** Instances that beat recently: owner -> until when they count as live. */
  readonly instances: ReadonlyMap<string, number>;
}

/**
 * Pacing leases, one per pacing group (engagements linked by a queue), and a heartbeat row per
 * instance, in the Pacing table. Every write is etag-conditional: a lease is taken when it is absent
 * (create) or expired (replace on the etag read), renewed and released only on the etag of its last
 * write, so of two instances racing for a lease exactly one gets it, and an instance whose lease was
 * taken over can neither renew nor release it. Time comes from the caller (an injected clock).
 */
export class PacingLeaseStore {
  constructor(
    private readonly tables: Tables,
    /** This instance's name in lease rows; unique per process (a restart is a new owner). */
    readonly owner: string,
  ) {}

  private client(): Promise<TableClient> {
    return this.tables.table(PACING_TABLE);
  }

  /** Says this instance is live until `now + durationMs`, whether or not it holds a lease. */
  async heartbeat(now: number, durationMs: number): Promise<void> {
    const client = await this.client();
    await client.upsertEntity(
      { partitionKey: PARTITION, rowKey: rowKeyOf(INSTANCE_PREFIX, this.owner), owner: this.owner, expiresAt: now + durationMs },
      'Replace',
    );
  }

  /**
   * At shutdown: gives up every lease this instance holds and withdraws its heartbeat, so the others
   * take its groups at their next tick instead of after the lease runs out.
   */
  async leave(now: number): Promise<void> {
    const { leases } = await this.list(now);
    for (const row of leases) if (row.owner === this.owner) await this.release(row);
    const client = await this.client();
    try {
      await client.deleteEntity(PARTITION, rowKeyOf(INSTANCE_PREFIX, this.owner));
    } catch (error) {
      if (tableErrorStatus(error) !== 404) throw error;
    }
  }

  async list(now: number): Promise<LeaseTable> {
    const client = await this.client();
    const leases: LeaseRow[] = [];
    const instances = new Map<string, number>();
    const rows = client.listEntities<{ owner: string; expiresAt: number }>({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } });
    for await (const row of rows) {
      if (row.rowKey?.startsWith(GROUP_PREFIX) === true && row.etag !== undefined) {
        leases.push({ group: decodeURIComponent(row.rowKey.slice(GROUP_PREFIX.length)), owner: row.owner, expiresAt: row.expiresAt, etag: row.etag });
      } else if (row.rowKey?.startsWith(INSTANCE_PREFIX) === true && row.expiresAt > now) {
        instances.set(row.owner, row.expiresAt);
      }
    }
    return { leases, instances };
  }

  /**
   * Takes `group` for `durationMs` from `now`: `seen` is its row as read by {@link list} (undefined:
   * none). Refused (undefined) when another owner holds it unexpired, or another instance won the race.
   */
  async acquire(group: string, seen: LeaseRow | undefined, now: number, durationMs: number): Promise<HeldLease | undefined> {
    const client = await this.client();
    const entity = { partitionKey: PARTITION, rowKey: rowKeyOf(GROUP_PREFIX, group), owner: this.owner, expiresAt: now + durationMs };
    try {
      if (seen === undefined) {
        const created = await client.createEntity(entity);
        return created.etag === undefined ? undefined : { group, expiresAt: entity.expiresAt, etag: created.etag };
      }
      if (seen.owner !== this.owner && seen.expiresAt > now) return undefined;
      const updated = await client.updateEntity(entity, 'Replace', { etag: seen.etag });
      return updated.etag === undefined ? undefined : { group, expiresAt: entity.expiresAt, etag: updated.etag };
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status === 409 || status === 412 || status === 404) return undefined;
      throw error;
    }
  }

  /** Extends a lease this instance holds; undefined when it was taken over (or released) since. */
  async renew(held: HeldLease, now: number, durationMs: number): Promise<HeldLease | undefined> {
    return this.acquire(held.group, { group: held.group, owner: this.owner, expiresAt: held.expiresAt, etag: held.etag }, now, durationMs);
  }

  /** Gives a lease up now (so another instance takes it at its next tick); a lease taken over meanwhile is left alone. */
  async release(held: HeldLease): Promise<void> {
    const client = await this.client();
    try {
      await client.deleteEntity(PARTITION, rowKeyOf(GROUP_PREFIX, held.group), { etag: held.etag });
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status !== 404 && status !== 412) throw error;
    }
  }
}
