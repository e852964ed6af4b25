import type { TableClient } from '@azure/data-tables';
import { fromTableKey, odataString, toTableKey } from '../tableKey.js';
import { tableErrorStatus, type Tables } from '../tables.js';

export const PENDING_CONTACTS_TABLE = 'PendingContacts';
/** Finished delivery ids remembered per contact, newest last: enough to recognise a replayed trigger. */
export const FINISHED_KEPT = 20;
/** Reservations written at once. */
const CONCURRENCY = 16;

export interface PendingContact {
  readonly contactId: string;
  readonly triggerId: string;
  readonly deliveryId: string;
  /**
   * When the mark lapses on its own (epoch ms): the delivery's last window end plus the grace in which
   * every delivery ends. A mark whose delivery was never stored (a crash between reserving and
   * publishing) cannot hold the contact beyond it.
   */
  readonly until: number;
}

interface PendingEntity {
  partitionKey: string;
  rowKey: string;
  state: 'pending' | 'released';
  triggerId: string;
  deliveryId: string;
  until: number;
  /** JSON array of finished delivery ids. */
  finished: string;
  etag?: string;
}

/** One engagement's marks as intake reads them before planning and reserving. */
export interface PendingSnapshot {
  /** Contact id -> trigger id, for contacts held by a delivery that has not ended. */
  readonly pending: ReadonlyMap<string, string>;
  /** Delivery ids that have ended: a replayed trigger carrying them changes nothing. */
  readonly finished: ReadonlySet<string>;
  /** The rows read, by contact id, for the conditional writes of {@link PendingContactStore.reserve}. */
  readonly rows: ReadonlyMap<string, { readonly etag: string; readonly triggerId: string; readonly active: boolean }>;
}

/**
 * Which contacts are held by an unfinished delivery in each engagement, so a contact is not queued
 * twice for the same engagement. Intake reserves contacts with a conditional write before it publishes
 * (two triggers racing for one contact: one write wins); dispatch releases the mark when the delivery
 * reaches a terminal state, remembering the delivery as finished so a replay of its trigger is
 * recognised, while a new trigger can engage the contact again.
 */
export class PendingContactStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(PENDING_CONTACTS_TABLE);
  }

  /** Every mark of the engagement (one partition scan); marks past their `until` count as released. */
  async byEngagement(engagementId: string, now: number): Promise<PendingSnapshot> {
    const client = await this.client();
    const pending = new Map<string, string>();
    const finished = new Set<string>();
    const rows = new Map<string, { etag: string; triggerId: string; active: boolean }>();
    const entities = client.listEntities<PendingEntity>({ queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)}` } });
    for await (const e of entities) {
      const contactId = fromTableKey(e.rowKey);
      const active = e.state === 'pending' && Number(e.until) > now;
      if (active) pending.set(contactId, e.triggerId);
      for (const id of parseFinished(e.finished)) finished.add(id);
      rows.set(contactId, { etag: e.etag ?? '*', triggerId: e.triggerId, active });
    }
    return { pending, finished, rows };
  }

  /**
   * Reserves contacts for the engagement before their batches are published: a new row is created, a
   * released (or lapsed) one replaced under the etag read in `snapshot`. A contact another trigger
   * reserved in between (409 or 412) is not reserved. A contact the same trigger already holds (a retry)
   * is. Returns the reserved contact ids.
   */
  async reserve(engagementId: string, snapshot: PendingSnapshot, contacts: readonly PendingContact[], now: number): Promise<Set<string>> {
    const client = await this.client();
    const reserved = new Set<string>();
    const one = async (c: PendingContact): Promise<void> => {
      const row = snapshot.rows.get(c.contactId);
      if (row?.active === true) {
        if (row.triggerId === c.triggerId) reserved.add(c.contactId);
        return;
      }
      const entity: PendingEntity = {
        partitionKey: engagementId,
        rowKey: toTableKey(c.contactId),
        state: 'pending',
        triggerId: c.triggerId,
        deliveryId: c.deliveryId,
        until: c.until,
        finished: '[]',
      };
      try {
        if (row === undefined) await client.createEntity(entity);
        else {
          // Re-read for the finished list; the write is conditional on what was read, so a racing reservation wins once.
          const current = await client.getEntity<PendingEntity>(engagementId, toTableKey(c.contactId));
          if (current.state === 'pending' && Number(current.until) > now) {
            if (current.triggerId === c.triggerId) reserved.add(c.contactId);
            return;
          }
          await client.updateEntity({ ...entity, finished: current.finished }, 'Replace', { etag: current.etag ?? '*' });
        }
        reserved.add(c.contactId);
      } catch (error) {
        const status = tableErrorStatus(error);
        if (status !== 409 && status !== 412 && status !== 404) throw error;
      }
    };
    for (let i = 0; i < contacts.length; i += CONCURRENCY) await Promise.all(contacts.slice(i, i + CONCURRENCY).map(one));
    return reserved;
  }

  /**
   * Releases a contact once its delivery is terminal, and remembers the delivery as finished. Only the
   * delivery that holds the mark releases it; any finished delivery is remembered. Idempotent.
   */
  async clear(engagementId: string, contactId: string, deliveryId: string): Promise<void> {
    await this.update(engagementId, contactId, (e) => {
      const finished = parseFinished(e.finished);
      const owner = e.deliveryId === deliveryId && e.state === 'pending';
      if (!owner && finished.includes(deliveryId)) return undefined;
      const kept = finished.includes(deliveryId) ? finished : [...finished, deliveryId].slice(-FINISHED_KEPT);
      return { ...e, state: owner ? 'released' : e.state, finished: JSON.stringify(kept) };
    });
  }

  /** Gives back reservations whose batches could not be published, so the trigger's retry (or another) can take them. */
  async unreserve(engagementId: string, contacts: readonly Pick<PendingContact, 'contactId' | 'deliveryId'>[]): Promise<void> {
    for (const c of contacts) {
      await this.update(engagementId, c.contactId, (e) => (e.deliveryId === c.deliveryId && e.state === 'pending' ? { ...e, state: 'released' } : undefined));
    }
  }

  private async update(engagementId: string, contactId: string, change: (e: PendingEntity) => PendingEntity | undefined): Promise<void> {
    const client = await this.client();
    for (let tries = 0; tries < 3; tries++) {
      try {
        const entity = await client.getEntity<PendingEntity>(engagementId, toTableKey(contactId));
        const next = change(entity);
        if (next === undefined) return;
        await client.updateEntity(
          {
            partitionKey: engagementId,
            rowKey: toTableKey(contactId),
            state: next.state,
            triggerId: next.triggerId,
            deliveryId: next.deliveryId,
            until: next.until,
            finished: next.finished,
          },
          'Replace',
          { etag: entity.etag },
        );
        return;
      } catch (error) {
        const status = tableErrorStatus(error);
        if (status === 404) return;
        if (status !== 412) throw error;
      }
    }
  }
}

function parseFinished(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
}
