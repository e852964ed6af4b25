import { describe, expect, it, vi } from 'vitest';
import type { PlannedContact } from '../../../src/contacts/plannedContact.js';
import { DeliveryStore, type QueuedRow } from '../../../src/store/dispatch/deliveryStore.js';
import { testTables } from '../../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');

function contact(i: number, key = `f${String(i).padStart(4, '0')}`): PlannedContact {
  const windows = [{ start: '2026-11-25T14:00:00.000Z', end: '2026-11-25T20:00:00.000Z' }];
  return {
    contactId: `c${i}`,
    phones: [{ type: 'mobile', e164: `+1212555${String(1000 + i)}`, windows }],
    timeZone: 'UTC',
    timezoneInferred: false,
    windows,
    attributes: {},
    callOrderKey: key,
    priority: 1,
    source: 'event:e',
    deliveryId: `d-${i}`,
  };
}

/** The head of the engagement's queue: the row a pacing tick would claim next. */
async function head(store: DeliveryStore, engagementId: string): Promise<QueuedRow> {
  const [row] = await store.queued(engagementId, 1);
  if (row === undefined) throw new Error(`the queue of ${engagementId} is empty`);
  return row;
}

describe('delivery store', () => {
  it('stores a batch in call order and a redelivered batch changes nothing', async () => {
    const store = new DeliveryStore(testTables());
    const contacts = Array.from({ length: 120 }, (_, i) => contact(i, `k${String(119 - i).padStart(4, '0')}`));
    expect(await store.storeContacts('e1', 't1', contacts, NOW)).toBe(120);
    const claimed = await store.claim('e1', (await store.queued('e1', 1))[0]!, NOW);
    expect(claimed?.deliveryId).toBe('d-119');
    expect(await store.storeContacts('e1', 't1', contacts, NOW)).toBe(0);
    const queued = await store.queued('e1', 500);
    expect(queued).toHaveLength(119);
    expect(queued[0]?.deliveryId).toBe('d-118');
    expect((await store.get('e1', 'd-119'))?.state).toBe('dialing');
  });

  it('reads the ready index from a small first page on past it, or after a row key, in call order; the waiting head names its time', async () => {
    const store = new DeliveryStore(testTables());
    const later = (i: number): PlannedContact => {
      const windows = [{ start: new Date(NOW + (i + 1) * 3_600_000).toISOString(), end: new Date(NOW + (i + 2) * 3_600_000).toISOString() }];
      return { ...contact(500 + i), windows, phones: [{ type: 'mobile', e164: `+1212556${String(1000 + i)}`, windows }] };
    };
    await store.storeContacts('e1', 't1', [...Array.from({ length: 250 }, (_, i) => contact(i)), later(2), later(1)], NOW);
    const all: string[] = [];
    for await (const row of store.ready('e1', { pageSize: 3 })) all.push(row.deliveryId);
    expect(all).toEqual(Array.from({ length: 250 }, (_, i) => `d-${i}`));
    const head: QueuedRow[] = [];
    for await (const row of store.ready('e1', { pageSize: 3 })) if (head.push(row) >= 3) break;
    const rest: string[] = [];
    for await (const row of store.ready('e1', { after: head[2]!.rowKey })) rest.push(row.deliveryId);
    expect(rest).toEqual(all.slice(3));
    expect(await store.nextWaitingAt('e1')).toBe(NOW + 2 * 3_600_000);
    expect(await store.nextWaitingAt('e2')).toBeUndefined();
  });

  it('two concurrent claims of one attempt: exactly one wins', async () => {
    const store = new DeliveryStore(testTables());
    await store.storeContacts('e1', 't1', [contact(1)], NOW);
    const [row] = await store.queued('e1', 1);
    const results = await Promise.all(Array.from({ length: 5 }, () => store.claim('e1', row!, NOW)));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect(await store.inFlight('e1')).toEqual([{ deliveryId: 'd-1', attempt: 1, state: 'dialing', since: NOW, representativeId: undefined }]);
  });

  it('a reattempt is queued again with the next attempt number, in its band, and the outcome is recorded once', async () => {
    const store = new DeliveryStore(testTables());
    await store.storeContacts('e1', 't1', [contact(1), contact(2)], NOW);
    const [row] = await store.queued('e1', 1);
    await store.claim('e1', row!, NOW);
    await store.markSubmitted('e1', 'd-1', 1, 'sim-1', NOW);
    const requeue = { requeue: { notBefore: NOW + 3_600_000, band: 0 as const } };
    expect(await store.finishAttempt('e1', 'd-1', 1, 'NoAnswer', requeue, NOW)).toBe(true);
    expect(await store.finishAttempt('e1', 'd-1', 1, 'NoAnswer', requeue, NOW)).toBe(false);
    const queued = await store.queued('e1', 10);
    // The reattempt is not callable for an hour: it waits by callable time, behind nothing and in front of nothing.
    expect(queued.map((q) => [q.deliveryId, q.kind, q.notBefore])).toEqual([
      ['d-2', 'ready', 0],
      ['d-1', 'waiting', NOW + 3_600_000],
    ]);
    expect(await store.get('e1', 'd-1')).toMatchObject({ state: 'queued', attempt: 2, lastResult: 'NoAnswer' });
    expect(await store.inFlight('e1')).toEqual([]);
  });

  it('cancelling queued deliveries leaves in-flight ones alone', async () => {
    const store = new DeliveryStore(testTables());
    await store.storeContacts('e1', 't1', [contact(1), contact(2)], NOW);
    const rows = await store.queued('e1', 10);
    await store.claim('e1', rows[0]!, NOW);
    expect(await store.cancelQueued('e1', rows[0]!, NOW)).toBeUndefined();
    expect((await store.cancelQueued('e1', rows[1]!, NOW))?.deliveryId).toBe('d-2');
    expect(await store.queued('e1', 10)).toEqual([]);
    expect((await store.get('e1', 'd-2'))?.state).toBe('cancelled');
  });

  it('a final outcome ends the delivery and its in-flight row; a late report of that attempt or an earlier one changes nothing', async () => {
    const store = new DeliveryStore(testTables());
    await store.storeContacts('e1', 't1', [contact(1)], NOW);
    await store.claim('e1', await head(store, 'e1'), NOW, 'rep-1');
    expect(await store.inFlight('e1')).toEqual([{ deliveryId: 'd-1', attempt: 1, state: 'dialing', since: NOW, representativeId: 'rep-1' }]);
    await store.markSubmitted('e1', 'd-1', 1, 'deliveryTask:a', NOW + 1_000);
    expect(await store.inFlight('e1')).toEqual([{ deliveryId: 'd-1', attempt: 1, state: 'submitted', since: NOW + 1_000, representativeId: 'rep-1' }]);

    expect(await store.finishAttempt('e1', 'd-1', 1, 'LiveAnswer', { final: 'done' }, NOW + 60_000)).toBe(true);
    expect(await store.finishAttempt('e1', 'd-1', 1, 'Abandoned', { final: 'done' }, NOW + 61_000)).toBe(false);
    await store.markSubmitted('e1', 'd-1', 1, 'deliveryTask:b', NOW + 62_000);

    expect(await store.get('e1', 'd-1')).toMatchObject({
      state: 'done',
      attempt: 1,
      lastResult: 'LiveAnswer',
      backendRef: 'deliveryTask:a',
      queueRowKey: undefined,
    });
    expect(await store.inFlight('e1')).toEqual([]);
    expect(await store.queued('e1', 10)).toEqual([]);
  });

  it('a postponed attempt goes back to the queue untried, with the same attempt number, callable from the new instant', async () => {
    const store = new DeliveryStore(testTables());
    await store.storeContacts('e1', 't1', [contact(1)], NOW);
    await store.claim('e1', await head(store, 'e1'), NOW);

    expect(await store.postpone('e1', 'd-1', 1, NOW + 86_400_000, NOW)).toBe(true);
    expect(await store.postpone('e1', 'd-1', 1, NOW + 86_400_000, NOW)).toBe(false);

    expect((await store.queued('e1', 10)).map((q) => [q.deliveryId, q.notBefore])).toEqual([['d-1', NOW + 86_400_000]]);
    expect(await store.get('e1', 'd-1')).toMatchObject({ state: 'queued', attempt: 1 });
    expect(await store.inFlight('e1')).toEqual([]);
  });

  it('a callback is queued in the windows computed for it, phone by phone', async () => {
    const store = new DeliveryStore(testTables());
    await store.storeContacts('e1', 't1', [contact(1)], NOW);
    await store.claim('e1', await head(store, 'e1'), NOW);
    const callbackAt = Date.parse('2026-11-26T16:00:00.000Z');
    const callback = [{ start: '2026-11-26T16:00:00.000Z', end: '2026-11-26T16:30:00.000Z' }];
    const planned = contact(1);
    const requeued = { ...planned, windows: callback, phones: planned.phones.map((p) => ({ ...p, windows: callback })) };

    await store.finishAttempt('e1', 'd-1', 1, 'LiveAnswer', { requeue: { notBefore: callbackAt, band: 0, contact: requeued } }, NOW);

    expect(await store.queued('e1', 10)).toEqual([expect.objectContaining({ deliveryId: 'd-1', notBefore: callbackAt, windows: callback })]);
    const record = await store.get('e1', 'd-1');
    expect(record?.attempt).toBe(2);
    expect(record?.contact.windows).toEqual(callback);
    expect(record?.contact.phones.map((p) => p.windows)).toEqual([callback]);
  });

  it('the next step of an attempt this store wrote needs no read; a record changed elsewhere since is read again and decided on', async () => {
    const tables = testTables();
    const store = new DeliveryStore(tables);
    const other = new DeliveryStore(tables);
    await store.storeContacts('e1', 't1', [contact(1), contact(2)], NOW);
    const reads = vi.spyOn(store, 'get');

    const first = await store.claim('e1', await head(store, 'e1'), NOW);
    expect(first?.deliveryId).toBe('d-1');
    expect(reads).toHaveBeenCalledTimes(1); // the claim reads the record it guards
    await store.markSubmitted('e1', 'd-1', 1, 'sim-1', NOW + 1);
    expect(await store.finishAttempt('e1', 'd-1', 1, 'NoAnswer', { requeue: { notBefore: NOW + 60_000, band: 1 } }, NOW + 2)).toBe(true);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(await other.get('e1', 'd-1')).toMatchObject({ state: 'queued', attempt: 2, lastResult: 'NoAnswer', backendRef: undefined });

    // Another instance ends d-2's attempt after this store handed it over: this store's write is refused on the etag, re-read, and changes nothing.
    await store.claim('e1', await head(store, 'e1'), NOW);
    await store.markSubmitted('e1', 'd-2', 1, 'sim-2', NOW + 1);
    expect(await other.finishAttempt('e1', 'd-2', 1, 'LiveAnswer', { final: 'done' }, NOW + 2)).toBe(true);
    const before = reads.mock.calls.length;
    expect(await store.finishAttempt('e1', 'd-2', 1, 'Unknown', { final: 'done' }, NOW + 3)).toBe(false);
    expect(reads.mock.calls.length).toBe(before + 1);
    expect(await other.get('e1', 'd-2')).toMatchObject({ state: 'done', lastResult: 'LiveAnswer' });
  });
});
