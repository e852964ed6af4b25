import { describe, expect, it } from 'vitest';
import { OutcomeStore } from '../../../src/store/dispatch/outcomeStore.js';
import { testTables } from '../../support/tables.js';

// The event type through the store's own signature: where the call-event type lives is not this file's concern.
type CallEvent = Parameters<OutcomeStore['record']>[0];

const START = Date.parse('2026-11-25T12:00:00Z');

/** A clock that moves one millisecond each time it is read, as the wall clock does between two records. */
function ticking(start = START): () => number {
  let now = start - 1;
  return () => (now += 1);
}

function event(deliveryId: string, overrides: Partial<CallEvent> = {}): CallEvent {
  return { deliveryId, attempt: 1, engagementId: 'renewals', result: 'NoAnswer', at: '2026-11-25T11:59:00.000Z', ...overrides };
}

describe('outcome store', () => {
  it('the first report of an attempt is recorded; the same report again is a duplicate and stores nothing more', async () => {
    const store = new OutcomeStore(testTables(), ticking());

    expect(await store.record(event('d-1'))).toBe('recorded');
    expect(await store.record(event('d-1'))).toBe('duplicate');

    expect((await store.since('renewals', 0)).events).toEqual([event('d-1')]);
  });

  it('each attempt of a delivery is an event of its own', async () => {
    const store = new OutcomeStore(testTables(), ticking());

    await store.record(event('d-1', { attempt: 1, result: 'NoAnswer' }));
    await store.record(event('d-1', { attempt: 2, result: 'LiveAnswer' }));

    expect((await store.since('renewals', 0)).events.map((e) => [e.attempt, e.result])).toEqual([
      [1, 'NoAnswer'],
      [2, 'LiveAnswer'],
    ]);
  });

  it('reads in recording order, from an instant or after the last row read; engagements are kept apart', async () => {
    let now = START;
    const store = new OutcomeStore(testTables(), () => now);
    await store.record(event('a', { at: '2026-11-25T11:00:00.000Z' }));
    now += 1_000;
    // Ended before 'a' but reported later: read after it.
    await store.record(event('late', { at: '2026-11-25T10:00:00.000Z' }));
    await store.record(event('other', { engagementId: 'collections' }));

    const all = await store.since('renewals', START);
    const fromSecond = await store.since('renewals', START + 1_000);
    const afterLast = await store.after('renewals', all.lastRowKey ?? '');

    expect(all.events.map((e) => e.deliveryId)).toEqual(['a', 'late']);
    expect(fromSecond.events.map((e) => e.deliveryId)).toEqual(['late']);
    expect(afterLast).toEqual({ events: [], lastRowKey: undefined });
    expect((await store.after('renewals', 't|')).events.map((e) => e.deliveryId)).toEqual(['a', 'late']);
    expect((await store.since('collections', 0)).events.map((e) => e.deliveryId)).toEqual(['other']);
    expect(await store.since('renewals', START + 2_000)).toEqual({ events: [], lastRowKey: undefined });
  });

  it('a later report completes the first as a new row, so a reader that already saw the first sees the completed event', async () => {
    const store = new OutcomeStore(testTables(), ticking());
    const handOff = event('d-1', { result: 'LiveAnswer', disposition: 'interested', escalated: true });
    await store.record(handOff);
    const seen = await store.since('renewals', 0);

    expect(await store.record(event('d-1', { result: 'NoAnswer', waitSeconds: 12, representativeId: 'rep-7' }))).toBe('merged');

    const completed = { ...handOff, waitSeconds: 12, representativeId: 'rep-7' };
    expect((await store.after('renewals', seen.lastRowKey ?? '')).events).toEqual([completed]);
    expect((await store.since('renewals', 0)).events).toEqual([completed]);
  });

  it('two reports of one attempt at once (agent leg and dialer on two workers): one recorded, one merged, one event with both', async () => {
    const tables = testTables();
    const clock = ticking();
    const [agentLeg, dialer] = [new OutcomeStore(tables, clock), new OutcomeStore(tables, clock)];
    const handOff = event('d-1', { result: 'LiveAnswer', disposition: 'interested', escalated: true });
    const hungUp = event('d-1', { result: 'Abandoned', waitSeconds: 45 });

    const results = await Promise.all([agentLeg.record(handOff), dialer.record(hungUp)]);

    expect([...results].sort()).toEqual(['merged', 'recorded']);
    const [stored] = (await agentLeg.since('renewals', 0)).events;
    // Whichever arrives first, the call ended abandoned after the hand-off.
    expect(stored).toMatchObject({ result: 'Abandoned', disposition: 'interested', escalated: true, waitSeconds: 45 });
    expect((await agentLeg.since('renewals', 0)).events).toHaveLength(1);
  });

  it('two reports of one attempt recorded in the same millisecond: the second is merged in place', async () => {
    const store = new OutcomeStore(testTables(), () => START);
    expect(await store.record(event('d-1', { result: 'LiveAnswer', disposition: 'interested' }))).toBe('recorded');
    expect(await store.record(event('d-1', { result: 'Abandoned', waitSeconds: 30 }))).toBe('merged');

    expect((await store.since('renewals', 0)).events).toEqual([event('d-1', { result: 'Abandoned', disposition: 'interested', waitSeconds: 30 })]);
  });

  it('an event no reader would accept is refused at write and nothing is stored', async () => {
    const store = new OutcomeStore(testTables(), ticking());
    await expect(store.record(event('d-1', { handleSeconds: 90_000 }))).rejects.toMatchObject({ code: 'InvalidRequest' });
    expect(await store.since('renewals', 0)).toEqual({ events: [], lastRowKey: undefined });
  });

  it('a stored row that cannot be read is skipped and reported, and the rows around it are read', async () => {
    const tables = testTables();
    const reports: string[] = [];
    const store = new OutcomeStore(tables, ticking(), (line) => reports.push(line));
    await store.record(event('d-1'));
    const client = await tables.table('Outcomes');
    await client.createEntity({ partitionKey: 'renewals', rowKey: `t|${new Date(START + 5).toISOString()}|d-bad|1`, event: '{"handleSeconds":90000}' });
    await client.createEntity({ partitionKey: 'renewals', rowKey: `t|${new Date(START + 6).toISOString()}|d-worse|1`, event: 'not json' });
    await store.record(event('d-2'));

    const page = await store.since('renewals', 0);

    expect(page.events.map((e) => e.deliveryId)).toEqual(['d-1', 'd-2']);
    expect(page.skipped).toBe(2);
    expect(reports).toEqual([expect.stringContaining('d-bad|1 skipped'), expect.stringContaining('d-worse|1 skipped: not JSON')]);
  });
});
