import { describe, expect, it } from 'vitest';
import { DoNotContactStore } from '../../src/store/doNotContactStore.js';
import { FrequencyLedger, LEDGER_SCAN_THRESHOLD } from '../../src/store/frequencyLedger.js';
import { PendingContacts } from '../../src/store/pendingContacts.js';
import { testTables } from '../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const DAY = 86_400_000;

describe('frequency ledger', () => {
  it('records once per attempt, forgets entries past eight days, and answers the same by point reads and by scan', async () => {
    const ledger = new FrequencyLedger(testTables());
    await ledger.record('a/b#c', { at: NOW - 3_600_000, engagementId: 'e1', attemptKey: 'd1#1' });
    await ledger.record('a/b#c', { at: NOW - 3_600_000, engagementId: 'e1', attemptKey: 'd1#1' });
    await ledger.record('a/b#c', { at: NOW - 2 * DAY, engagementId: 'e2', attemptKey: 'd2#1' });
    await ledger.record('old', { at: NOW - 9 * DAY, engagementId: 'e1', attemptKey: 'd3#1' });
    const expected = new Map([['a/b#c', [NOW - 3_600_000, NOW - 2 * DAY]]]);
    const small = await ledger.recent(['a/b#c', 'old', 'never'], NOW);
    const large = await ledger.recent(['a/b#c', 'old', ...Array.from({ length: LEDGER_SCAN_THRESHOLD }, (_, i) => `x${i}`)], NOW);
    expect(small).toEqual(expected);
    expect(large).toEqual(expected);
  });

  it('concurrent records for one contact all count', async () => {
    const ledger = new FrequencyLedger(testTables());
    await Promise.all(Array.from({ length: 5 }, (_, i) => ledger.record('busy', { at: NOW - i * 1000, engagementId: `e${i}`, attemptKey: `d${i}#1` })));
    expect((await ledger.recent(['busy'], NOW)).get('busy')).toHaveLength(5);
  });
});

describe('do-not-contact list', () => {
  it('point checks see additions at once; the planning snapshot within its TTL', async () => {
    let clock = NOW;
    const store = new DoNotContactStore(testTables(), 60_000, () => clock);
    await store.add({ phone: '+12125550100' }, 'asked', 'test');
    expect(await store.keys()).toEqual(new Set(['+12125550100']));
    await store.add({ contactId: 'c/1' }, 'asked', 'test');
    expect(await store.contains({ contactId: 'c/1' })).toBe(true);
    expect(await store.contains({ phone: '+12125550199' })).toBe(false);
    clock += 61_000;
    expect(await store.keys()).toEqual(new Set(['+12125550100', 'contact:c/1']));
    await store.remove({ phone: '+12125550100' });
    expect(await store.contains({ phone: '+12125550100' })).toBe(false);
  });
});

describe('pending contacts', () => {
  it('marks by engagement and clears only for the delivery that marked it', async () => {
    const pending = new PendingContacts(testTables());
    await pending.markPending('e1', Array.from({ length: 150 }, (_, i) => ({ contactId: `c${i}`, triggerId: 't1', deliveryId: `d${i}` })));
    expect((await pending.byEngagement('e1')).size).toBe(150);
    await pending.clear('e1', 'c1', 'some-other-delivery');
    await pending.clear('e1', 'c2', 'd2');
    const after = await pending.byEngagement('e1');
    expect(after.get('c1')).toBe('t1');
    expect(after.has('c2')).toBe(false);
    expect((await pending.byEngagement('e2')).size).toBe(0);
  });
});
