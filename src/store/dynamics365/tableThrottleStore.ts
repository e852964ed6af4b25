import type { TableClient } from '@azure/data-tables';
import { toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';
import type { ThrottleState, ThrottleStore } from '../../dialers/dynamics365/throttleStore.js';

export const DYNAMICS_THROTTLE_TABLE = 'DynamicsThrottle';

/** Tries of the read-compare-write in {@link TableThrottleStore.extend} before giving up to a concurrent writer. */
const MAX_EXTEND_TRIES = 5;

/**
 * The durable {@link ThrottleStore}: one entity per Dataverse organisation (row key: its host), read
 * by every pacing tick and instance. `extend` is an optimistic read-compare-write on the entity's
 * etag, so two instances throttled at once keep the later of their two waits.
 */
export class TableThrottleStore implements ThrottleStore {
  constructor(
    private readonly tables: Tables,
    private readonly orgUrl: string,
  ) {}

  private client(): Promise<TableClient> {
    return this.tables.table(DYNAMICS_THROTTLE_TABLE);
  }

  private keys(): { partitionKey: string; rowKey: string } {
    return { partitionKey: 'org', rowKey: toTableKey(new URL(this.orgUrl).host) };
  }

  async get(): Promise<ThrottleState | undefined> {
    const found = await this.read();
    return found?.state;
  }

  async extend(state: ThrottleState): Promise<void> {
    const client = await this.client();
    for (let tries = 0; tries < MAX_EXTEND_TRIES; tries++) {
      const found = await this.read();
      if (found !== undefined && found.state.until >= state.until) return;
      const entity = { ...this.keys(), until: state.until, reason: state.reason };
      try {
        if (found === undefined) await client.createEntity(entity);
        else await client.updateEntity(entity, 'Replace', { etag: found.etag });
        return;
      } catch (error) {
        const status = tableErrorStatus(error);
        // Another instance wrote first (409 on create, 412 on update): read again and compare.
        if (status !== 409 && status !== 412) throw error;
      }
    }
  }

  private async read(): Promise<{ state: ThrottleState; etag: string } | undefined> {
    const { partitionKey, rowKey } = this.keys();
    try {
      const e = await (await this.client()).getEntity<{ until: number; reason: string }>(partitionKey, rowKey);
      return { state: { until: Number(e.until), reason: e.reason }, etag: e.etag };
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }
}
