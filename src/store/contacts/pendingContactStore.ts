import type { TableClient, TransactionAction } from '@azure/data-tables';
import pMap from 'p-map';
import { fromTableKey, odataString, toTableKey } from '../tableKey.js';
import { MAX_TRANSACTION_ACTIONS, tableErrorStatus, type Tables } from '../tables.js';

export const PENDING_CONTACTS_TABLE = 'PendingContacts';
/** Finished delivery ids remembered per contact, newest last: enough to recognise a replayed trigger. */
export const FINISHED_KEPT = 20;
/** Reservation transactions (of up to 100 marks) in flight at once. */
const CONCURRENCY = 8;
/** Point reads in flight for one chunk whose transaction met existing rows. */
const READ_CONCURRENCY = 16;

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

type PendingEntity = {
  partitionKey: string;
  rowKey: string;
  state: 'pending' | 'released';
  triggerId: string;
  deliveryId: string;
  until: number;
  /** JSON array of finished delivery ids. */
  finished: string;
  etag?: string;
};

/** What {@link PendingContactStore.reserve} did. */
export interface Reservation {
  /** Contacts now held by the trigger: written by this call, or already held by the same trigger (a retry). */
  readonly reserved: ReadonlySet<string>;
  /** The contacts this call wrote: what to give back if publishing fails. */
  readonly fresh: ReadonlySet<string>;
}

/** One engagement's marks, for inspection (tests, operators); intake never reads the whole set. */
export interface PendingSnapshot {
  /** Contact id -> trigger id, for contacts held by a delivery that has not ended. */
  readonly pending: ReadonlyMap<string, string>;
  /** Delivery ids that have ended: a replayed trigger carrying them changes nothing. */
  readonly finished: ReadonlySet<string>;
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

  /** Every mark of the engagement (one partition scan, for inspection); marks past their `until` count as released. */
  async byEngagement(engagementId: string, now: number): Promise<PendingSnapshot> {
    const client = await this.client();
    const pending = new Map<string, string>();
    const finished = new Set<string>();
    const entities = client.listEntities<PendingEntity>({ queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)}` } });
    for await (const e of entities) {
      const contactId = fromTableKey(e.rowKey);
      const active = e.state === 'pending' && Number(e.until) > now;
      if (active) pending.set(contactId, e.triggerId);
      for (const id of parseFinished(e.finished)) finished.add(id);
    }
    return { pending, finished };
  }

  /**
   * Reserves contacts for the engagement before their batches are published, reading only their own
   * rows, never the engagement's pending set. Contacts go in transactions of up to 100 creates (a
   * first trigger for a contact needs no read at all); when a transaction meets a row that exists, that
   * chunk's rows are point-read and the chunk is written again: a create for a missing row, a replace
   * under the read etag for a released (or lapsed) mark. A contact held by another unfinished delivery,
   * or whose delivery already finished (a replayed trigger), is not reserved; one the same trigger
   * already holds (a retry) is, without a write. Two triggers racing for a contact: one write wins.
   * Contact ids must be unique within one call.
   */
  async reserve(engagementId: string, contacts: readonly PendingContact[], now: number): Promise<Reservation> {
    const client = await this.client();
    const reserved = new Set<string>();
    const fresh = new Set<string>();
    const chunks: PendingContact[][] = [];
    for (let i = 0; i < contacts.length; i += MAX_TRANSACTION_ACTIONS) chunks.push(contacts.slice(i, i + MAX_TRANSACTION_ACTIONS));
    await pMap(
      chunks,
      async (chunk) => {
        try {
          await client.submitTransaction(chunk.map((c): TransactionAction => ['create', markEntity(engagementId, c, '[]')]));
          for (const c of chunk) {
            reserved.add(c.contactId);
            fresh.add(c.contactId);
          }
          return;
        } catch (error) {
          if (!isConflict(error)) throw error;
        }
        await this.reserveRead(client, engagementId, chunk, now, reserved, fresh);
      },
      { concurrency: CONCURRENCY },
    );
    return { reserved, fresh };
  }

  /** The slow path of {@link reserve} for one chunk: read each row, then write what is free in one transaction, or one by one after a race. */
  private async reserveRead(
    client: TableClient,
    engagementId: string,
    chunk: readonly PendingContact[],
    now: number,
    reserved: Set<string>,
    fresh: Set<string>,
  ): Promise<void> {
    const rows = await pMap(chunk, (c) => readMark(client, engagementId, c.contactId), { concurrency: READ_CONCURRENCY });
    const actions: TransactionAction[] = [];
    const writing: PendingContact[] = [];
    chunk.forEach((c, i) => {
      const decision = decide(rows[i], c, now);
      if (decision === 'held') reserved.add(c.contactId);
      if (decision !== 'write') return;
      const row = rows[i];
      writing.push(c);
      actions.push(
        row === undefined
          ? ['create', markEntity(engagementId, c, '[]')]
          : ['update', markEntity(engagementId, c, row.finished), 'Replace', { etag: row.etag ?? '*' }],
      );
    });
    if (actions.length === 0) return;
    try {
      await client.submitTransaction(actions);
      for (const c of writing) {
        reserved.add(c.contactId);
        fresh.add(c.contactId);
      }
      return;
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    // Another trigger wrote one of these rows in between: settle each on its own.
    for (const c of writing) {
      const outcome = await this.reserveOne(client, engagementId, c, now);
      if (outcome === 'lost') continue;
      reserved.add(c.contactId);
      if (outcome === 'written') fresh.add(c.contactId);
    }
  }

  private async reserveOne(client: TableClient, engagementId: string, c: PendingContact, now: number): Promise<'written' | 'held' | 'lost'> {
    const row = await readMark(client, engagementId, c.contactId);
    const decision = decide(row, c, now);
    if (decision !== 'write') return decision;
    try {
      if (row === undefined) await client.createEntity(markEntity(engagementId, c, '[]'));
      else await client.updateEntity(markEntity(engagementId, c, row.finished), 'Replace', { etag: row.etag ?? '*' });
      return 'written';
    } catch (error) {
      const status = tableErrorStatus(error);
      if (status !== 409 && status !== 412 && status !== 404) throw error;
      return 'lost';
    }
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

function markEntity(engagementId: string, c: PendingContact, finished: string): PendingEntity {
  return {
    partitionKey: engagementId,
    rowKey: toTableKey(c.contactId),
    state: 'pending',
    triggerId: c.triggerId,
    deliveryId: c.deliveryId,
    until: c.until,
    finished,
  };
}

async function readMark(client: TableClient, engagementId: string, contactId: string): Promise<PendingEntity | undefined> {
  try {
    return await client.getEntity<PendingEntity>(engagementId, toTableKey(contactId));
  } catch (error) {
    if (tableErrorStatus(error) === 404) return undefined;
    throw error;
  }
}

/** What a reservation does with a contact's current mark. */
function decide(row: PendingEntity | undefined, c: PendingContact, now: number): 'write' | 'held' | 'lost' {
  if (row === undefined) return 'write';
  if (row.state === 'pending' && Number(row.until) > now) return row.triggerId === c.triggerId ? 'held' : 'lost';
  return parseFinished(row.finished).includes(c.deliveryId) ? 'lost' : 'write';
}

/** A transaction refused because a row exists (409) or changed since it was read (412). */
function isConflict(error: unknown): boolean {
  const status = tableErrorStatus(error);
  return status === 409 || status === 412;
}

function parseFinished(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
}
