import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { CALL_RESULTS } from '../../src/contacts/callResult.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { OutcomeCounts } from '../../src/pacing/outcomeCounts.js';
import { summarizeOutcomes } from '../../src/pacing/summarizeOutcomes.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { testTables } from '../support/tables.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** On a 5-minute step, so whole-step windows end exactly at `NOW`. */
const NOW = Date.parse('2026-11-29T12:00:00Z');

const event = (id: string, at: number, result: CallEvent['result'] = 'NoAnswer', extra: Partial<CallEvent> = {}): CallEvent => ({
  deliveryId: id,
  attempt: 1,
  engagementId: 'e',
  result,
  at: new Date(at).toISOString(),
  ...extra,
});

/** Every counted figure of a summary (the window bounds aside). */
function figures(s: ReturnType<typeof summarizeOutcomes>) {
  const { from: _from, to: _to, ...rest } = s;
  return rest;
}

describe('hourly outcome aggregates', () => {
  it('counts what a raw read of the same outcomes counts, over every window up to 30 days, whatever the order, duplicates and second reports', async () => {
    // A generated campaign: attempts over the last 3 days (some reported twice: the agent leg's report
    // then the dialer's), recorded a few at a time concurrently.
    const attemptArb = fc.record({
      minutesAgo: fc.integer({ min: 1, max: 3 * 24 * 60 }),
      result: fc.constantFrom(...CALL_RESULTS),
      waitSeconds: fc.option(
        fc.integer({ min: 0, max: 300 }).map((n) => n / 4),
        { nil: undefined },
      ),
      escalated: fc.option(fc.boolean(), { nil: undefined }),
      representativeId: fc.option(fc.constantFrom('rep-1', 'rep-2'), { nil: undefined }),
      second: fc.option(fc.constantFrom<CallEvent['result']>('Abandoned', 'LiveAnswer', 'BotFailed'), { nil: undefined }),
      replay: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(attemptArb, { minLength: 1, maxLength: 40 }), async (attempts) => {
        const store = new OutcomeStore(testTables(), () => NOW);
        const reports: CallEvent[] = [];
        attempts.forEach((a, i) => {
          // Half a second past the minute: never on a window boundary.
          const first = event(`d-${i}`, NOW - a.minutesAgo * MINUTE + 500, a.result, {
            ...(a.waitSeconds === undefined ? {} : { waitSeconds: a.waitSeconds }),
            ...(a.escalated === undefined ? {} : { escalated: a.escalated }),
            ...(a.representativeId === undefined ? {} : { representativeId: a.representativeId }),
          });
          reports.push(first);
          if (a.second !== undefined) reports.push({ ...first, result: a.second, waitSeconds: 12 });
          if (a.replay) reports.push(first);
        });
        for (let i = 0; i < reports.length; i += 4) await Promise.all(reports.slice(i, i + 4).map((r) => store.record(r)));

        const raw = (await store.since('e', 0)).events;
        expect(new Set(raw.map((e) => e.deliveryId)).size).toBe(attempts.length);
        const counts = await store.counts('e', NOW - 30 * DAY, NOW);
        const pacing = await new RecentOutcomes(store).of('e', NOW);
        for (const minutes of [5, 60, 24 * 60, 50 * 60, 3 * 24 * 60 + 5, 30 * 24 * 60]) {
          const expected = figures(summarizeOutcomes(raw, new Date(NOW), minutes));
          expect(figures(counts.summarize(new Date(NOW), minutes)), `${minutes} min`).toEqual(expected);
          expect(figures(pacing.summarize(new Date(NOW), minutes)), `${minutes} min, as pacing reads it`).toEqual(expected);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('a window beyond 24 hours counts the days before it, and each engagement reads only the hours of its own window', async () => {
    const store = new OutcomeStore(testTables(), () => NOW);
    await store.record(event('old', NOW - 6 * DAY - 30 * MINUTE, 'Abandoned'));
    await store.record(event('two-days', NOW - 2 * DAY, 'LiveAnswer'));
    await store.record(event('today', NOW - 2 * HOUR, 'LiveAnswer'));
    await store.record(event('too-old', NOW - 31 * DAY, 'Abandoned'));
    const recent = new RecentOutcomes(store);

    const month = await recent.of('e', NOW);
    expect(month.summarize(new Date(NOW), 7 * 24 * 60)).toMatchObject({ liveAnswers: 3, abandoned: 1 });
    expect(month.summarize(new Date(NOW), 3 * 24 * 60)).toMatchObject({ liveAnswers: 2, abandoned: 0 });
    expect(month.summarize(new Date(NOW), 24 * 60)).toMatchObject({ liveAnswers: 1 });
    expect(month.summarize(new Date(NOW), 30 * 24 * 60).events).toBe(3);

    // A 3-hour reader reads the rows of those hours only.
    const short = await new RecentOutcomes(store).of('e', NOW, 180);
    expect(short.size).toBe(1);
    expect(await new RecentOutcomes(store).of('other', NOW)).toMatchObject({ size: 0 });
  });

  it('a worker keeps the hours it read and reads again only the index and the hours whose version moved, late reports included', async () => {
    let now = NOW;
    const store = new OutcomeStore(testTables(), () => now);
    const reads = { index: 0, hour: 0, range: 0 };
    const counted = Object.assign(Object.create(store) as OutcomeStore, {
      hourVersions: (id: string) => (reads.index++, store.hourVersions(id)),
      hourRow: (id: string, hour: string) => (reads.hour++, store.hourRow(id, hour)),
      hourRows: (id: string, from: number, to: number) => (reads.range++, store.hourRows(id, from, to)),
    });
    const recent = new RecentOutcomes(counted);
    const all: CallEvent[] = [];
    for (let h = 0; h < 60; h++) all.push(event(`d-${h}`, NOW - h * HOUR - 20 * MINUTE, h % 7 === 0 ? 'Abandoned' : 'LiveAnswer'));
    for (const e of all) await store.record(e);

    const first = await recent.of('e', now, 3 * 24 * 60);
    expect(reads).toEqual({ index: 1, hour: 0, range: 1 });
    expect(figures(first.summarize(new Date(now), 3 * 24 * 60))).toEqual(figures(summarizeOutcomes(all, new Date(now), 3 * 24 * 60)));

    now += 5 * MINUTE;
    const late = event('late', NOW - 50 * HOUR + 30_000, 'Abandoned');
    const current = event('current', now - MINUTE, 'LiveAnswer');
    await store.record(late);
    await store.record(current);
    const second = await recent.of('e', now, 3 * 24 * 60);
    expect(reads).toEqual({ index: 2, hour: 2, range: 1 });
    expect(figures(second.summarize(new Date(now), 3 * 24 * 60))).toEqual(figures(summarizeOutcomes([...all, late, current], new Date(now), 3 * 24 * 60)));

    // Nothing new: the index alone.
    now += 5 * MINUTE;
    await recent.of('e', now, 3 * 24 * 60);
    expect(reads).toEqual({ index: 3, hour: 2, range: 1 });
  });

  it('a later report of the same attempt moves its counts: the agent leg hand-off, then the dialer saying the customer hung up waiting', async () => {
    let now = NOW;
    const store = new OutcomeStore(testTables(), () => now);
    const at = NOW - MINUTE;
    const handOff = event('d', at, 'LiveAnswer', { disposition: 'interested', escalated: true });
    expect(await store.record(handOff)).toBe('recorded');
    expect((await store.counts('e', NOW - HOUR, NOW)).summarize(new Date(NOW), 60)).toMatchObject({ liveAnswers: 1, abandoned: 0, escalations: 1 });
    now += 1_000;
    const dialer = event('d', now, 'Abandoned', { waitSeconds: 45 });
    expect(await store.record(dialer)).toBe('merged');
    expect(await store.record(dialer)).toBe('duplicate');
    const after = (await store.counts('e', NOW - HOUR, now)).summarize(new Date(now), 60);
    expect(after).toMatchObject({ events: 1, liveAnswers: 1, abandoned: 1, escalations: 1, waits: 1, averageWaitSeconds: 45 });
    expect((await store.since('e', 0)).events).toEqual([{ ...handOff, result: 'Abandoned', waitSeconds: 45 }]);
  });

  it('outcomes recorded concurrently in one hour, by one worker and by two, are all counted once', async () => {
    const tables = testTables();
    const store = new OutcomeStore(tables, () => NOW);
    const other = new OutcomeStore(tables, () => NOW);
    const events = Array.from({ length: 60 }, (_, i) => event(`c-${i}`, NOW - 10 * MINUTE + i * 1_000, i % 3 === 0 ? 'Abandoned' : 'LiveAnswer'));
    // Two workers racing on the same rows retry on their etags; within one worker they take turns.
    await Promise.all([...events, ...events.slice(0, 6)].map((e, i) => (i % 2 === 0 ? store : other).record(e)));
    expect((await store.counts('e', NOW - HOUR, NOW)).summarize(new Date(NOW), 60)).toMatchObject({ events: 60, liveAnswers: 60, abandoned: 20 });
  });

  it('a crash between recording and counting cannot happen apart: before the commit nothing is kept, after it a retry counts nothing twice', async () => {
    const tables = testTables();
    const store = new OutcomeStore(tables, () => NOW);
    const client = await tables.table('Outcomes');
    const submit = client.submitTransaction.bind(client);
    const summary = async () => (await store.counts('e', NOW - HOUR, NOW)).summarize(new Date(NOW), 60);

    // The process dies before the transaction reaches the store: neither the outcome nor its count is kept.
    client.submitTransaction = () => Promise.reject(new Error('process died before the write'));
    await expect(store.record(event('before', NOW - MINUTE, 'Abandoned'))).rejects.toThrow('process died');
    expect(await store.has('e', 'before', 1)).toBe(false);
    expect((await summary()).events).toBe(0);

    // The write commits and the process dies before it hears back: the outcome and its count are both there.
    client.submitTransaction = async (actions, options) => {
      await submit(actions, options);
      throw new Error('process died after the write');
    };
    await expect(store.record(event('after', NOW - MINUTE, 'Abandoned'))).rejects.toThrow('process died');
    client.submitTransaction = submit;
    expect(await store.has('e', 'after', 1)).toBe(true);
    expect(await summary()).toMatchObject({ events: 1, abandoned: 1 });

    // The same outcomes reported again (the recorder's repair path): each counted exactly once.
    expect(await store.record(event('before', NOW - MINUTE, 'Abandoned'))).toBe('recorded');
    expect(await store.record(event('after', NOW - MINUTE, 'Abandoned'))).toBe('duplicate');
    expect(await summary()).toMatchObject({ events: 2, abandoned: 2, liveAnswers: 2 });
  });

  it('an outcome recorded before the aggregates existed is counted once when a later report completes it', async () => {
    const tables = testTables();
    const store = new OutcomeStore(tables, () => NOW);
    const client = await tables.table('Outcomes');
    const legacy = event('legacy', NOW - MINUTE, 'LiveAnswer');
    const row = `t|${new Date(NOW - 30_000).toISOString()}|legacy|1`;
    await client.submitTransaction([
      ['create', { partitionKey: 'e', rowKey: 'o|legacy|1', result: 'LiveAnswer', timeRow: row }],
      ['create', { partitionKey: 'e', rowKey: row, event: JSON.stringify(legacy) }],
    ]);
    expect(await store.record(legacy)).toBe('merged');
    expect(await store.record(legacy)).toBe('duplicate');
    expect((await store.counts('e', NOW - HOUR, NOW)).summarize(new Date(NOW), 60)).toMatchObject({ events: 1, liveAnswers: 1 });
  });

  it('windows are measured in whole 5-minute steps, and a restart counts from the next step', () => {
    const counts = OutcomeCounts.fromEvents([event('a', NOW - 62 * MINUTE, 'Abandoned'), event('b', NOW - 3 * MINUTE, 'LiveAnswer')]);
    // 12:00 - 60 min = 11:00; the 10:55 step holds 'a' and is before the window's first step.
    expect(counts.summarize(new Date(NOW), 60).events).toBe(1);
    // At 12:01 the window starts at 11:01, inside the 11:00 step, counted whole.
    expect(counts.summarize(new Date(NOW + MINUTE), 60).events).toBe(1);
    expect(counts.summarize(new Date(NOW + MINUTE), 63).events).toBe(2);
    // Restarted at 11:56: 'b' (11:57) is in the step the restart falls in, so it is not counted.
    expect(counts.summarize(new Date(NOW), 120, { since: new Date(NOW - 4 * MINUTE) }).events).toBe(0);
    expect(counts.summarize(new Date(NOW), 120, { since: new Date(NOW - 5 * MINUTE) }).events).toBe(1);
  });
});
