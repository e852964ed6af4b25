import type { TableClient, TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import type { PlannedContact } from '../../contacts/plannedContact.js';
import { plannedContactSchema } from '../../bus/contactBatchMessage.js';
import { nextCallable } from '../../pacing/nextCallable.js';
import { odataString } from '../tableKey.js';
import { MAX_TRANSACTION_ACTIONS, tableErrorStatus, type Tables } from '../tables.js';

export const DELIVERIES_TABLE = 'Deliveries';

/**
 * Where a delivery is (docs/lifecycle.md has the diagram). `queued` waits for its next attempt;
 * `dialing` is claimed by a pacing tick for one attempt and being handed to the back-end; `submitted`
 * is with the back-end. The rest are terminal: `done` (called, final result), `expired` (no window
 * left), `cancelled` (engagement stopped), `rejected` (the number or the back-end refused it).
 */
export const DELIVERY_STATES = ['queued', 'dialing', 'submitted', 'done', 'expired', 'cancelled', 'rejected'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
export const TERMINAL_STATES: readonly DeliveryState[] = ['done', 'expired', 'cancelled', 'rejected'];
export type TerminalState = 'done' | 'expired' | 'cancelled' | 'rejected';

export function isTerminal(state: DeliveryState): state is TerminalState {
  return TERMINAL_STATES.includes(state);
}

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
  /** Band of the next attempt while queued (kept so a waiting row can be made ready in call order). */
  readonly band: QueueBand;
  readonly backendRef: string | undefined;
  readonly lastResult: string | undefined;
  readonly updatedAt: string;
  readonly etag: string;
}

/**
 * A queued delivery, as one of the two queue indexes holds it. `ready` rows (`q|band|callOrderKey|id`)
 * are callable now and sorted in call order; `waiting` rows (`w|callableAt|id`) are sorted by the time
 * they become callable. A tick promotes due waiting rows to ready, and a ready row whose span closed
 * goes back to waiting (or expires), so rows that cannot be called never stand in front of rows that can.
 */
export interface QueuedRow {
  readonly rowKey: string;
  readonly deliveryId: string;
  readonly kind: 'ready' | 'waiting';
  /** Ready: when the current callable span ends. Waiting: when the row becomes callable. */
  readonly at: number;
  readonly notBefore: number;
  readonly windows: PlannedContact['windows'];
  readonly band: QueueBand;
  readonly callOrderKey: string;
}

export interface InFlightRow {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly state: 'dialing' | 'submitted';
  readonly since: number;
  readonly representativeId: string | undefined;
  /** Preview with `start: manual`: offered to the representative, who must accept before this instant. */
  readonly offeredUntil?: number;
}

type RecordEntity = {
  partitionKey: string;
  rowKey: string;
  state: DeliveryState;
  attempt: number;
  contact: string;
  triggerId: string;
  queueRowKey?: string;
  band?: number;
  backendRef?: string;
  lastResult?: string;
  updatedAt: string;
  etag?: string;
};

/**
 * `at` is a zero-padded epoch-ms string: compared as a string in filters, the same on every table
 * service. `band` and `key` (the call-order key) let a waiting row be made ready without reading its record.
 */
type QueueEntity = { partitionKey: string; rowKey: string; at: string; notBefore: number; windows: string; band: number; key: string };

const recordRow = (deliveryId: string) => `d|${deliveryId}`;
const inFlightRow = (deliveryId: string) => `f|${deliveryId}`;
/** Ready rows sort the callable queue: band, then the engagement's call-order key, then the id for uniqueness. */
export const queueRowKey = (band: QueueBand, callOrderKey: string, deliveryId: string) => `q|${band}|${callOrderKey}|${deliveryId}`;
/** Waiting rows sort by the instant they become callable (epoch ms, zero-padded so string order is time order). */
export const waitingRowKey = (callableAt: number, deliveryId: string) => `w|${padTime(callableAt)}|${deliveryId}`;
const padTime = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

/** Contacts per transaction when storing a batch: two rows each, 100 actions at most. */
const CONTACTS_PER_TRANSACTION = MAX_TRANSACTION_ACTIONS / 2;
/** Rows per page when reading an index: bounds memory, never how far a read may go. */
const PAGE_SIZE = 200;

const windowsSchema = plannedContactSchema.shape.windows;

/**
 * Pending deliveries per engagement in one Table Storage partition: the delivery records (`d|`), the
 * two queue indexes (`q|` ready in call order, `w|` waiting by callable time) and the in-flight index
 * (`f|`). Every state change that touches two of them is one entity-group transaction guarded by the
 * record's etag or by the queue row it removes, so two pacing instances can never both claim the same
 * attempt, and a redelivered batch never creates a second delivery.
 */
export class DeliveryStore {
  /** Records this store wrote last, with their new etags: the next transition of one tries it before reading. */
  private readonly written = new WrittenRecords();
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

  /**
   * Ready rows in call order, read page by page as far as the caller goes: from the start, or after
   * the row key `after` (a read continued where an earlier one stopped). `pageSize` is the first page's
   * size, for a caller that knows how few rows it needs; later pages are {@link PAGE_SIZE}.
   */
  ready(engagementId: string, options: { after?: string; pageSize?: number } = {}): AsyncIterable<QueuedRow> {
    const lower = options.after === undefined ? `RowKey ge 'q|'` : `RowKey gt ${odataString(options.after)}`;
    return this.rows(engagementId, `${lower} and RowKey lt 'q}'`, options.pageSize);
  }

  /** Waiting rows that are due (callable at or before `now`), earliest first: a range read that ends at `now`. */
  due(engagementId: string, now: number): AsyncIterable<QueuedRow> {
    return this.rows(engagementId, `RowKey ge 'w|' and RowKey lt ${odataString(waitingRowKey(now + 1, ''))}`);
  }

  /** When the earliest waiting row becomes callable (one row read), or undefined when none waits. */
  async nextWaitingAt(engagementId: string): Promise<number | undefined> {
    for await (const row of this.rows(engagementId, `RowKey ge 'w|' and RowKey lt 'w}'`, 1)) return row.at;
    return undefined;
  }

  /** Ready rows whose callable span has closed (window ended, every phone in quiet hours). */
  closed(engagementId: string, now: number): AsyncIterable<QueuedRow> {
    return this.rows(engagementId, `RowKey ge 'q|' and RowKey lt 'q}' and at le ${odataString(padTime(now))}`);
  }

  /** Every queued row, ready ones first (in call order), then waiting ones (by callable time), up to `limit`. */
  async queued(engagementId: string, limit: number): Promise<QueuedRow[]> {
    const rows: QueuedRow[] = [];
    for (const range of [`RowKey ge 'q|' and RowKey lt 'q}'`, `RowKey ge 'w|' and RowKey lt 'w}'`]) {
      for await (const row of this.rows(engagementId, range)) {
        if (rows.length >= limit) return rows;
        rows.push(row);
      }
    }
    return rows;
  }

  private async *rows(engagementId: string, range: string, firstPageSize = PAGE_SIZE): AsyncIterable<QueuedRow> {
    const client = await this.client();
    const query = (filter: string, pageSize: number) =>
      client
        .listEntities<QueueEntity>({
          queryOptions: {
            filter: `PartitionKey eq ${odataString(engagementId)} and ${filter}`,
            select: ['RowKey', 'at', 'notBefore', 'windows', 'band', 'key'],
          },
        })
        .byPage({ maxPageSize: pageSize });
    let last: string | undefined;
    let more = false;
    for await (const page of query(range, Math.min(firstPageSize, PAGE_SIZE))) {
      for (const row of page) {
        last = row.rowKey;
        yield toQueuedRow(row);
      }
      more = page.continuationToken !== undefined;
      if (firstPageSize < PAGE_SIZE) break;
    }
    if (firstPageSize >= PAGE_SIZE || !more || last === undefined) return;
    // A small first page was not enough: the rest in full pages, after the last row seen.
    for await (const page of query(`RowKey gt ${odataString(last)} and ${range}`, PAGE_SIZE)) {
      for (const row of page) yield toQueuedRow(row);
    }
  }

  /**
   * Makes due waiting rows ready: each moves to the call-order index with the span it is callable in,
   * or, when no window is left, with a closed span so the sweep ends it. Up to 33 rows go in one
   * transaction; each is guarded by its waiting row, which the transaction deletes: a row claimed,
   * cancelled or promoted by someone else in between fails its transaction, and the rows are then
   * moved one by one. Returns how many were moved.
   */
  async promote(engagementId: string, rows: readonly QueuedRow[], now: number): Promise<number> {
    const client = await this.client();
    const actionsOf = (row: QueuedRow): TransactionAction[] => {
      const span = nextCallable(row.windows, Math.max(now, row.notBefore));
      const rowKey = queueRowKey(row.band, row.callOrderKey, row.deliveryId);
      return [
        ['update', { partitionKey: engagementId, rowKey: recordRow(row.deliveryId), queueRowKey: rowKey }, 'Merge'],
        ['delete', { partitionKey: engagementId, rowKey: row.rowKey }],
        ['create', queueRow(engagementId, rowKey, padTime(span?.end ?? 0), row)],
      ];
    };
    let moved = 0;
    const perTransaction = Math.floor(MAX_TRANSACTION_ACTIONS / 3);
    for (let i = 0; i < rows.length; i += perTransaction) {
      const chunk = rows.slice(i, i + perTransaction);
      try {
        await client.submitTransaction(chunk.flatMap(actionsOf));
        moved += chunk.length;
      } catch (error) {
        if (!isGone(error)) throw error;
        for (const row of chunk) {
          try {
            await client.submitTransaction(actionsOf(row));
            moved++;
          } catch (inner) {
            if (!isGone(inner)) throw inner;
          }
        }
      }
    }
    return moved;
  }

  /**
   * A ready row whose span closed goes back to waiting for its next window. Returns `expired` when no
   * window is left (the caller ends it with {@link endQueued}), `moved` or `gone` otherwise.
   */
  async demote(engagementId: string, row: QueuedRow, now: number): Promise<'moved' | 'expired' | 'gone'> {
    const current = await this.get(engagementId, row.deliveryId);
    if (current === undefined || current.state !== 'queued' || current.queueRowKey !== row.rowKey) return 'gone';
    const span = nextCallable(row.windows, Math.max(now, row.notBefore));
    if (span === undefined) return 'expired';
    const rowKey = waitingRowKey(span.start, row.deliveryId);
    const client = await this.client();
    try {
      await client.submitTransaction([
        ['update', { ...toEntity(current), queueRowKey: rowKey }, 'Replace', { etag: current.etag }],
        ['delete', { partitionKey: engagementId, rowKey: row.rowKey }],
        ['create', queueRow(engagementId, rowKey, padTime(span.start), row)],
      ]);
      return 'moved';
    } catch (error) {
      if (isConflict(error) || tableErrorStatus(error) === 412 || tableErrorStatus(error) === 404) return 'gone';
      throw error;
    }
  }

  async inFlight(engagementId: string): Promise<InFlightRow[]> {
    const client = await this.client();
    const rows: InFlightRow[] = [];
    const entities = client.listEntities<{
      rowKey: string;
      attempt: number;
      state: 'dialing' | 'submitted';
      since: number;
      representativeId?: string;
      offeredUntil?: number;
    }>({
      queryOptions: { filter: `PartitionKey eq ${odataString(engagementId)} and RowKey ge 'f|' and RowKey lt 'f}'` },
    });
    for await (const e of entities) {
      rows.push({
        deliveryId: e.rowKey.slice(2),
        attempt: e.attempt,
        state: e.state,
        since: e.since,
        representativeId: e.representativeId,
        ...(e.offeredUntil === undefined ? {} : { offeredUntil: e.offeredUntil }),
      });
    }
    return rows;
  }

  /**
   * Claims a ready delivery for its next attempt: the record moves to `dialing`, its queue row is
   * removed and an in-flight row added, atomically and only if nobody changed the record since it was
   * read. Returns undefined when the delivery is no longer queued under that row (claimed elsewhere,
   * cancelled), or the row is not a ready one. `offeredUntil` (preview, manual start) marks the claim as
   * an offer the representative must accept by then.
   */
  async claim(engagementId: string, row: QueuedRow, now: number, representativeId?: string, offeredUntil?: number): Promise<DeliveryRecord | undefined> {
    if (row.kind !== 'ready') return undefined;
    const client = await this.client();
    const current = await this.get(engagementId, row.deliveryId);
    if (current === undefined || current.state !== 'queued' || current.queueRowKey !== row.rowKey) return undefined;
    const updated: RecordEntity = { ...toEntity(current), state: 'dialing', queueRowKey: undefined, updatedAt: new Date(now).toISOString() };
    try {
      const actions: TransactionAction[] = [
        ['update', updated, 'Replace', { etag: current.etag }],
        ['delete', { partitionKey: engagementId, rowKey: row.rowKey }],
        [
          'create',
          {
            ...inFlightEntity(engagementId, row.deliveryId, current.attempt, 'dialing', now, representativeId),
            ...(offeredUntil === undefined ? {} : { offeredUntil }),
          },
        ],
      ];
      const response = await client.submitTransaction(actions);
      this.written.note(engagementId, actions, response.subResponses[0]?.etag);
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
   * Ends an attempt: the record becomes terminal or is queued again for the next attempt at
   * `requeue.notBefore`; the in-flight row goes. Idempotent: an attempt that has already ended, or a
   * later attempt, is left alone. Returns whether this call made the change.
   */
  async finishAttempt(
    engagementId: string,
    deliveryId: string,
    attempt: number,
    result: string,
    outcome: { final: 'done' | 'rejected' | 'expired' } | { requeue: { notBefore: number; band: QueueBand; contact?: PlannedContact } },
    now: number,
  ): Promise<boolean> {
    return this.transition(engagementId, deliveryId, attempt, ['dialing', 'submitted'], (current) => {
      const base = { ...toEntity(current), lastResult: result, updatedAt: new Date(now).toISOString() };
      const removeInFlight: TransactionAction = ['delete', { partitionKey: engagementId, rowKey: inFlightRow(deliveryId) }];
      if ('final' in outcome) return [['update', { ...base, state: outcome.final, queueRowKey: undefined }, 'Replace', { etag: current.etag }], removeInFlight];
      const { notBefore, band } = outcome.requeue;
      // A callback replaces the planned windows with the ones around the time the customer asked for.
      const contact = outcome.requeue.contact ?? current.contact;
      const entry = queueEntry(engagementId, band, contact, deliveryId, notBefore, now);
      return [
        [
          'update',
          { ...base, contact: JSON.stringify(contact), state: 'queued', attempt: attempt + 1, queueRowKey: entry.rowKey, band, backendRef: undefined },
          'Replace',
          { etag: current.etag },
        ],
        removeInFlight,
        ['create', entry],
      ];
    });
  }

  /**
   * Puts a claimed attempt back in the queue, untried, to be called from `notBefore` (a frequency limit
   * reached since planning, or no phone callable at dial time). The attempt number stays: no call was placed.
   */
  async postpone(engagementId: string, deliveryId: string, attempt: number, notBefore: number, now: number): Promise<boolean> {
    return this.transition(engagementId, deliveryId, attempt, ['dialing'], (current) => {
      const entry = queueEntry(engagementId, current.band, current.contact, deliveryId, notBefore, now);
      return [
        [
          'update',
          { ...toEntity(current), state: 'queued', queueRowKey: entry.rowKey, updatedAt: new Date(now).toISOString() },
          'Replace',
          { etag: current.etag },
        ],
        ['delete', { partitionKey: engagementId, rowKey: inFlightRow(deliveryId) }],
        ['create', entry],
      ];
    });
  }

  /** Cancels one queued delivery (engagement stopped). Returns it when it was still queued. */
  async cancelQueued(engagementId: string, row: QueuedRow, now: number): Promise<DeliveryRecord | undefined> {
    return this.endQueued(engagementId, row, 'cancelled', 'Cancelled', now);
  }

  /** Ends one queued delivery in a terminal state (cancelled, or expired when no window is left). */
  async endQueued(engagementId: string, row: QueuedRow, state: 'cancelled' | 'expired', result: string, now: number): Promise<DeliveryRecord | undefined> {
    const current = await this.get(engagementId, row.deliveryId);
    if (current === undefined || current.state !== 'queued' || current.queueRowKey !== row.rowKey) return undefined;
    const client = await this.client();
    try {
      await client.submitTransaction([
        [
          'update',
          { ...toEntity(current), state, queueRowKey: undefined, lastResult: result, updatedAt: new Date(now).toISOString() },
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
    // The record this store last wrote is tried first, without a read: the write is conditional on its
    // etag, so a record changed since (another process, an operator) fails it and is read as usual.
    let current: DeliveryRecord | undefined = this.written.get(engagementId, deliveryId);
    if (current !== undefined && (current.attempt !== attempt || !from.includes(current.state))) current = undefined;
    for (let tries = 0; tries < 3;) {
      const fromCache = current !== undefined;
      if (!fromCache) {
        tries++;
        current = await this.get(engagementId, deliveryId);
        if (current === undefined || current.attempt !== attempt || !from.includes(current.state)) return false;
      }
      const written = actions(current as DeliveryRecord);
      try {
        const response = await client.submitTransaction(written);
        this.written.note(engagementId, written, response.subResponses[0]?.etag);
        return true;
      } catch (error) {
        // 412: changed between read and write; re-read and decide again.
        if (tableErrorStatus(error) !== 412) throw error;
        this.written.forget(engagementId, deliveryId);
        current = undefined;
      }
    }
    return false;
  }
}

/** Records kept by {@link WrittenRecords}: enough for the calls of a busy tick and the outcomes that follow. */
const WRITTEN_RECORDS_KEPT = 10_000;

/**
 * The delivery records a store wrote, as written and with the etag the service gave them, so that the
 * next step of an attempt (hand-over, outcome) writes without reading first. Only writes use it, each
 * conditional on that etag: a record changed elsewhere since fails the write and is read again. Ended
 * deliveries are dropped; the oldest go first when {@link WRITTEN_RECORDS_KEPT} is reached.
 */
class WrittenRecords {
  private readonly records = new Map<string, DeliveryRecord>();

  get(engagementId: string, deliveryId: string): DeliveryRecord | undefined {
    return this.records.get(`${engagementId}\u0000${deliveryId}`);
  }

  forget(engagementId: string, deliveryId: string): void {
    this.records.delete(`${engagementId}\u0000${deliveryId}`);
  }

  /** Notes the record a transaction's first action wrote (when it is a record update) under its new etag. */
  note(engagementId: string, actions: readonly TransactionAction[], etag: string | undefined): void {
    const [kind, entity] = actions[0] ?? [];
    if (kind !== 'update' || entity === undefined || !String(entity.rowKey).startsWith('d|')) return;
    const record = entity as RecordEntity;
    const key = `${engagementId}\u0000${record.rowKey.slice(2)}`;
    this.records.delete(key);
    if (etag === undefined || isTerminal(record.state)) return;
    this.records.set(key, toRecord(engagementId, { ...record, etag }));
    if (this.records.size > WRITTEN_RECORDS_KEPT) {
      const oldest = this.records.keys().next();
      if (oldest.done !== true) this.records.delete(oldest.value);
    }
  }
}

/**
 * The queue row for a delivery's next attempt: ready (in call order) when it is callable now, else
 * waiting for the start of its next callable span. With no window left it is made ready with a closed
 * span, so the next sweep ends it as Expired rather than leaving it to wait forever.
 */
function queueEntry(engagementId: string, band: QueueBand, contact: PlannedContact, deliveryId: string, notBefore: number, now: number): QueueEntity {
  const span = nextCallable(contact.windows, Math.max(now, notBefore));
  const row = { notBefore, windows: contact.windows, band, callOrderKey: contact.callOrderKey };
  if (span !== undefined && span.start > now) return queueRow(engagementId, waitingRowKey(span.start, deliveryId), padTime(span.start), row);
  return queueRow(engagementId, queueRowKey(band, contact.callOrderKey, deliveryId), padTime(span?.end ?? 0), row);
}

function queueRow(engagementId: string, rowKey: string, at: string, row: Pick<QueuedRow, 'notBefore' | 'windows' | 'band' | 'callOrderKey'>): QueueEntity {
  return { partitionKey: engagementId, rowKey, at, notBefore: row.notBefore, windows: JSON.stringify(row.windows), band: row.band, key: row.callOrderKey };
}

/** The row a transaction guards on is gone or changed: someone else moved the delivery first. */
function isGone(error: unknown): boolean {
  const status = tableErrorStatus(error);
  return status === 404 || status === 412 || isConflict(error);
}

function toQueuedRow(row: Omit<QueueEntity, 'partitionKey'>): QueuedRow {
  return {
    rowKey: row.rowKey,
    deliveryId: row.rowKey.slice(row.rowKey.lastIndexOf('|') + 1),
    kind: row.rowKey.startsWith('q|') ? 'ready' : 'waiting',
    at: Number(row.at),
    notBefore: Number(row.notBefore),
    windows: windowsSchema.parse(JSON.parse(row.windows)),
    band: toBand(row.band),
    callOrderKey: row.key,
  };
}

function createActions(engagementId: string, triggerId: string, contact: PlannedContact, now: number): TransactionAction[] {
  const entry = queueEntry(engagementId, NEW_DELIVERY_BAND, contact, contact.deliveryId, 0, now);
  const record: RecordEntity = {
    partitionKey: engagementId,
    rowKey: recordRow(contact.deliveryId),
    state: 'queued',
    attempt: 1,
    contact: JSON.stringify(contact),
    triggerId,
    queueRowKey: entry.rowKey,
    band: NEW_DELIVERY_BAND,
    updatedAt: new Date(now).toISOString(),
  };
  return [
    ['create', record],
    ['create', entry],
  ];
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
    band: toBand(e.band),
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
    band: r.band,
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

function toBand(value: number | undefined): QueueBand {
  return value === 0 || value === 2 ? value : NEW_DELIVERY_BAND;
}
