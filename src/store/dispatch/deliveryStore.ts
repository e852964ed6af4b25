import type { TableClient, TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import type { PlannedContact } from '../../contacts/plannedContact.js';
import { plannedContactSchema } from '../../bus/contactBatchMessage.js';
import { odataString } from '../tableKey.js';
import { MAX_TRANSACTION_ACTIONS, tableErrorStatus, type Tables } from '../tables.js';

export const DELIVERIES_TABLE = 'Deliveries';

/**
 * Where a delivery is. `queued` waits in the engagement's call order; `dialing` is claimed by a pacing
 * tick for one attempt and being handed to the back-end; `submitted` is with the back-end; the rest
 * are final.
 */
export const DELIVERY_STATES = ['queued', 'dialing', 'submitted', 'done', 'cancelled', 'rejected'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * Reattempt bands sort before the call-order key: a reattempt configured "higher than new deliveries"
 * goes in band 0, new deliveries and "same" in band 1, "lower" in band 2.
 */
export type QueueBand = 0 | 1 | 2;
export const NEW_DELIVERY_BAND: QueueBand = 1;

export interface DeliveryRecord {
  readonly engagementId: string;
  readonly deliveryId: string;
  readonly state: DeliveryState;
  /** The attempt being made now, or next (1 for the first call). */
  readonly attempt: number;
  readonly contact: PlannedContact;
  readonly triggerId: string;
  readonly queueRowKey: string | undefined;
  readonly backendRef: string | undefined;
  readonly lastResult: string | undefined;
  readonly updatedAt: string;
  readonly etag: string;
}

/** A row of the engagement's call-order index: enough to decide callability without reading the record. */
export interface QueuedRow {
  readonly rowKey: string;
  readonly deliveryId: string;
  readonly notBefore: number;
  readonly windows: PlannedContact['windows'];
}

export interface InFlightRow {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly state: 'dialing' | 'submitted';
  readonly since: number;
  readonly representativeId: string | undefined;
}

type RecordEntity = {
  partitionKey: string;
  rowKey: string;
  state: DeliveryState;
  attempt: number;
  contact: string;
  triggerId: string;
  queueRowKey?: string;
  backendRef?: string;
  lastResult?: string;
  updatedAt: string;
  etag?: string;
};

const recordRow = (deliveryId: string) => `d|${deliveryId}`;
const inFlightRow = (deliveryId: string) => `f|${deliveryId}`;
/** Row keys sort the queue: band, then the engagement's call-order key, then the id for uniqueness. */
export const queueRowKey = (band: QueueBand, callOrderKey: string, deliveryId: string) => `q|${band}|${callOrderKey}|${deliveryId}`;

/** Contacts per transaction when storing a batch: two rows each, 100 actions at most. */
const CONTACTS_PER_TRANSACTION = MAX_TRANSACTION_ACTIONS / 2;

const windowsSchema = plannedContactSchema.shape.windows;

/**
 * Pending deliveries per engagement in one Table Storage partition: the delivery records (`d|`), the
 * call-order index (`q|`) and the in-flight index (`f|`). Every state change that touches two of them
 * is one entity-group transaction guarded by the record's etag, so two pacing instances can never both
 * claim the same attempt, and a redelivered batch never creates a second delivery.
 */
export class DeliveryStore {
  constructor(private readonly tables: Tables) {}

  private client(): Promise<TableClient> {
    return this.tables.table(DELIVERIES_TABLE);
  }

  /**
   * Stores contacts as queued deliveries. Idempotent: a delivery that already exists (a redelivered
   * batch) is left as it is, whatever state it has reached. Returns how many were new.
   */
  async storeContacts(engagementId: string, triggerId: string, contacts: readonly PlannedContact[], now: number): Promise<number> {
    const client = await this.client();
    let created = 0;
    for (let i = 0; i < contacts.length; i += CONTACTS_PER_TRANSACTION) {
      const chunk = contacts.slice(i, i + CONTACTS_PER_TRANSACTION);
      try {
        await client.submitTransaction(chunk.flatMap((c) => createActions(engagementId, triggerId, c, now)));
        created += chunk.length;
      } catch (error) {
        if (!isConflict(error)) throw error;
        // Some of the chunk exists already (redelivery): store the rest one by one.
        for (const contact of chunk) {
          try {
            await client.submitTransaction(createActions(engagementId, triggerId, contact, now));
            created++;
          } catch (inner) {
            if (!isConflict(inner)) throw inner;
          }
        }
      }
    }
    return created;
  }

  async get(engagementId: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const client = await this.client();
    try {
      return toRecord(engagementId, await client.getEntity<RecordEntity>(engagementId, recordRow(deliveryId)));
    } catch (error) {
      if (tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** The head of the call-order index, up to `limit` rows, in order. */
  async queued(engagementId: string, limit: number): Promise<QueuedRow[]> {
    const client = await this.client();
    const rows: QueuedRow[] = [];
    const pages = client
      .listEntities<{ rowKey: string; notBefore: number; windows: string }>({
        queryOptions: {
          filter: `PartitionKey eq ${odataString(engagementId)} and RowKey ge 'q|' and RowKey lt 'q}'`,
          select: ['RowKey', 'notBefore', 'windows'],
        },
      })
      .byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const row of page) {
        rows.push({
          rowKey: row.rowKey,
          deliveryId: row.rowKey.slice(row.rowKey.lastIndexOf('|') + 1),
          notBefore: row.notBefore,
          windows: windowsSchema.parse(JSON.parse(row.windows)),
        });
        if (rows.length >= limit) return rows;
      }
    }
    return rows;
  }

  async inFlight(engagementId: string): Promise<InFlightRow[]> {
    const client = await this.client();
    const rows: InFlightRow[] = [];
    const entities = client.listEntities<{ rowKey: string; attempt: number; state: 'dialing' | 'submitted'; since: number; representativeId?: string }>({
      queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)} and RowKey ge 'f|' and RowKey lt 'f}'` },
    });
    for await (const e of entities) {
      rows.push({ deliveryId: e.rowKey.slice(2), attempt: e.attempt, state: e.state, since: e.since, representativeId: e.representativeId });
    }
    return rows;
  }

  /**
   * Claims a queued delivery for its next attempt: the record moves to `dialing`, its queue row is
   * removed and an in-flight row added, atomically and only if nobody changed the record since it was
   * read. Returns undefined when the delivery is no longer queued under that row (claimed elsewhere,
   * cancelled).
   */
  async claim(engagementId: string, row: QueuedRow, now: number, representativeId?: string): Promise<DeliveryRecord | undefined> {
    const client = await this.client();
    const current = await this.get(engagementId, row.deliveryId);
    if (current === undefined || current.state !== 'queued' || current.queueRowKey !== row.rowKey) return undefined;
    const updated: RecordEntity = { ...toEntity(current), state: 'dialing', queueRowKey: undefined, updatedAt: new Date(now).toISOString() };
    try {
      await client.submitTransaction([
        ['update', updated, 'Replace', { etag: current.etag }],
        ['delete', { partitionKey: engagementId, rowKey: row.rowKey }],
        ['create', inFlightEntity(engagementId, row.deliveryId, current.attempt, 'dialing', now, representativeId)],
      ]);
    } catch (error) {
      if (isConflict(error) || tableErrorStatus(error) === 412 || tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
    return { ...current, state: 'dialing', queueRowKey: undefined };
  }

  /** Records that the back-end accepted the attempt. No-op when the attempt has already moved on. */
  async markSubmitted(engagementId: string, deliveryId: string, attempt: number, backendRef: string, now: number): Promise<void> {
    await this.transition(engagementId, deliveryId, attempt, ['dialing'], (current) => [
      ['update', { ...toEntity(current), state: 'submitted', backendRef, updatedAt: new Date(now).toISOString() }, 'Replace', { etag: current.etag }],
      ['upsert', inFlightEntity(engagementId, deliveryId, attempt, 'submitted', now, undefined), 'Merge'],
    ]);
  }

  /**
   * Ends an attempt: the record becomes final (`done`, `rejected`) or is queued again for the next
   * attempt at `requeue.notBefore`; the in-flight row goes. Idempotent: an attempt that has already
   * ended, or a later attempt, is left alone. Returns whether this call made the change.
   */
  async finishAttempt(
    engagementId: string,
    deliveryId: string,
    attempt: number,
    result: string,
    outcome: { final: 'done' | 'rejected' } | { requeue: { notBefore: number; band: QueueBand; windows?: PlannedContact['windows'] } },
    now: number,
  ): Promise<boolean> {
    return this.transition(engagementId, deliveryId, attempt, ['dialing', 'submitted'], (current) => {
      const base = { ...toEntity(current), lastResult: result, updatedAt: new Date(now).toISOString() };
      const removeInFlight: TransactionAction = ['delete', { partitionKey: engagementId, rowKey: inFlightRow(deliveryId) }];
      if ('final' in outcome) return [['update', { ...base, state: outcome.final, queueRowKey: undefined }, 'Replace', { etag: current.etag }], removeInFlight];
      const { notBefore, band, windows } = outcome.requeue;
      // A callback replaces the planned windows with the one the customer asked for, on every phone.
      const contact = windows === undefined ? current.contact : { ...current.contact, windows, phones: current.contact.phones.map((p) => ({ ...p, windows })) };
      const rowKey = queueRowKey(band, contact.callOrderKey, deliveryId);
      return [
        [
          'update',
          { ...base, contact: JSON.stringify(contact), state: 'queued', attempt: attempt + 1, queueRowKey: rowKey, backendRef: undefined },
          'Replace',
          { etag: current.etag },
        ],
        removeInFlight,
        ['create', queueEntity(engagementId, rowKey, notBefore, contact)],
      ];
    });
  }

  /**
   * Puts a claimed attempt back in the queue, untried, to be called from `notBefore` (a frequency limit
   * reached since planning). The attempt number stays: no call was placed.
   */
  async postpone(engagementId: string, deliveryId: string, attempt: number, notBefore: number, now: number): Promise<boolean> {
    return this.transition(engagementId, deliveryId, attempt, ['dialing'], (current) => {
      const rowKey = queueRowKey(NEW_DELIVERY_BAND, current.contact.callOrderKey, deliveryId);
      return [
        ['update', { ...toEntity(current), state: 'queued', queueRowKey: rowKey, updatedAt: new Date(now).toISOString() }, 'Replace', { etag: current.etag }],
        ['delete', { partitionKey: engagementId, rowKey: inFlightRow(deliveryId) }],
        ['create', queueEntity(engagementId, rowKey, notBefore, current.contact)],
      ];
    });
  }

  /** Cancels one queued delivery (engagement stopped). Returns it when it was still queued. */
  async cancelQueued(engagementId: string, row: QueuedRow, now: number): Promise<DeliveryRecord | undefined> {
    const current = await this.get(engagementId, row.deliveryId);
    if (current === undefined || current.state !== 'queued' || current.queueRowKey !== row.rowKey) return undefined;
    const client = await this.client();
    try {
      await client.submitTransaction([
        [
          'update',
          { ...toEntity(current), state: 'cancelled', queueRowKey: undefined, lastResult: 'Cancelled', updatedAt: new Date(now).toISOString() },
          'Replace',
          { etag: current.etag },
        ],
        ['delete', { partitionKey: engagementId, rowKey: row.rowKey }],
      ]);
      return current;
    } catch (error) {
      if (tableErrorStatus(error) === 412 || tableErrorStatus(error) === 404) return undefined;
      throw error;
    }
  }

  private async transition(
    engagementId: string,
    deliveryId: string,
    attempt: number,
    from: readonly DeliveryState[],
    actions: (current: DeliveryRecord) => TransactionAction[],
  ): Promise<boolean> {
    const client = await this.client();
    for (let tries = 0; tries < 3; tries++) {
      const current = await this.get(engagementId, deliveryId);
      if (current === undefined || current.attempt !== attempt || !from.includes(current.state)) return false;
      try {
        await client.submitTransaction(actions(current));
        return true;
      } catch (error) {
        // 412: changed between read and write; re-read and decide again.
        if (tableErrorStatus(error) !== 412) throw error;
      }
    }
    return false;
  }
}

function createActions(engagementId: string, triggerId: string, contact: PlannedContact, now: number): TransactionAction[] {
  const rowKey = queueRowKey(NEW_DELIVERY_BAND, contact.callOrderKey, contact.deliveryId);
  const record: RecordEntity = {
    partitionKey: engagementId,
    rowKey: recordRow(contact.deliveryId),
    state: 'queued',
    attempt: 1,
    contact: JSON.stringify(contact),
    triggerId,
    queueRowKey: rowKey,
    updatedAt: new Date(now).toISOString(),
  };
  return [
    ['create', record],
    ['create', queueEntity(engagementId, rowKey, 0, contact)],
  ];
}

function queueEntity(engagementId: string, rowKey: string, notBefore: number, contact: PlannedContact) {
  return { partitionKey: engagementId, rowKey, notBefore, windows: JSON.stringify(contact.windows) };
}

function inFlightEntity(
  engagementId: string,
  deliveryId: string,
  attempt: number,
  state: 'dialing' | 'submitted',
  now: number,
  representativeId: string | undefined,
) {
  return {
    partitionKey: engagementId,
    rowKey: inFlightRow(deliveryId),
    attempt,
    state,
    since: now,
    ...(representativeId === undefined ? {} : { representativeId }),
  };
}

function toRecord(engagementId: string, e: RecordEntity): DeliveryRecord {
  return {
    engagementId,
    deliveryId: e.rowKey.slice(2),
    state: z.enum(DELIVERY_STATES).parse(e.state),
    attempt: e.attempt,
    contact: plannedContactSchema.parse(JSON.parse(e.contact)),
    triggerId: e.triggerId,
    queueRowKey: e.queueRowKey ?? undefined,
    backendRef: e.backendRef ?? undefined,
    lastResult: e.lastResult ?? undefined,
    updatedAt: e.updatedAt,
    etag: e.etag ?? '*',
  };
}

function toEntity(r: DeliveryRecord): RecordEntity {
  return {
    partitionKey: r.engagementId,
    rowKey: recordRow(r.deliveryId),
    state: r.state,
    attempt: r.attempt,
    contact: JSON.stringify(r.contact),
    triggerId: r.triggerId,
    ...(r.queueRowKey === undefined ? {} : { queueRowKey: r.queueRowKey }),
    ...(r.backendRef === undefined ? {} : { backendRef: r.backendRef }),
    ...(r.lastResult === undefined ? {} : { lastResult: r.lastResult }),
    updatedAt: r.updatedAt,
  };
}

/** A transaction or create that failed because an entity already exists. */
function isConflict(error: unknown): boolean {
  if (tableErrorStatus(error) === 409) return true;
  const code = (error as { details?: { odataError?: { code?: string } } } | null)?.details?.odataError?.code;
  return code === 'EntityAlreadyExists';
}
