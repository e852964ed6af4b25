import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { RecentOutcomes } from '../../src/dispatch/recentOutcomes.js';
import { testTables } from '../support/tables.js';

const HOUR = 3_600_000;

describe('recent outcomes for pacing', () => {
  it('reads only what was recorded since the last tick, keeps late reports, and drops what left the window', async () => {
    let now = Date.parse('2026-11-25T12:00:00Z');
    const store = new OutcomeStore(testTables(), () => now);
    const recent = new RecentOutcomes(store, 2 * HOUR);
    const event = (id: string, at: number): CallEvent => ({
      deliveryId: id,
      attempt: 1,
      engagementId: 'e',
      result: 'NoAnswer',
      at: new Date(at).toISOString(),
    });

    await store.record(event('a', now - 90 * 60_000));
    await store.record(event('b', now - 60_000));
    expect((await recent.of('e', now)).map((e) => e.deliveryId)).toEqual(['a', 'b']);

    now += 5_000;
    // Reported late: it ended before 'b' but is recorded now.
    await store.record(event('late', now - 30 * 60_000));
    expect((await recent.of('e', now)).map((e) => e.deliveryId)).toEqual(['a', 'b', 'late']);
    expect((await recent.of('e', now)).map((e) => e.deliveryId)).toEqual(['a', 'b', 'late']);

    now += HOUR; // 'a' ended 2h35m ago now: out of the two-hour window
    expect((await recent.of('e', now)).map((e) => e.deliveryId)).toEqual(['b', 'late']);
    expect(await recent.of('other', now)).toEqual([]);
  });

  it('a later report of the same attempt completes the first: the agent leg hand-off, then the dialer saying the customer hung up waiting', async () => {
    let now = Date.parse('2026-11-25T12:00:00Z');
    const store = new OutcomeStore(testTables(), () => now);
    const recent = new RecentOutcomes(store, 2 * HOUR);
    const at = new Date(now - 60_000).toISOString();
    const handOff: CallEvent = { deliveryId: 'd', attempt: 1, engagementId: 'e', result: 'LiveAnswer', at, disposition: 'interested', escalated: true };
    expect(await store.record(handOff)).toBe('recorded');
    expect(await recent.of('e', now)).toEqual([handOff]);
    now += 1_000;
    const dialer: CallEvent = { deliveryId: 'd', attempt: 1, engagementId: 'e', result: 'Abandoned', at: new Date(now).toISOString(), waitSeconds: 45 };
    expect(await store.record(dialer)).toBe('merged');
    expect(await store.record(dialer)).toBe('duplicate');
    expect(await recent.of('e', now)).toEqual([{ ...handOff, result: 'Abandoned', waitSeconds: 45 }]);
    expect((await store.since('e', 0)).events).toEqual([{ ...handOff, result: 'Abandoned', waitSeconds: 45 }]);
  });
});
