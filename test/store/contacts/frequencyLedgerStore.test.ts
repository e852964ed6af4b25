import { describe, expect, it } from 'vitest';
import { FrequencyLedgerStore, LEDGER_SCAN_THRESHOLD } from '../../../src/store/contacts/frequencyLedgerStore.js';
import { testTables } from '../../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const DAY = 86_400_000;

describe('frequency ledger', () => {
  it('records once per attempt, forgets entries past eight days, and answers the same by point reads and by scan', async () => {
    const ledger = new FrequencyLedgerStore(testTables());
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
    const ledger = new FrequencyLedgerStore(testTables());
    await Promise.all(Array.from({ length: 5 }, (_, i) => ledger.record('busy', { at: NOW - i * 1000, engagementId: `e${i}`, attemptKey: `d${i}#1` })));
    expect((await ledger.recent(['busy'], NOW)).get('busy')).toHaveLength(5);
  });
});

describe('frequency ledger claims', () => {
  it('two engagements claiming the same contact at the same moment under a limit of one: exactly one gets it', async () => {
    const ledger = new FrequencyLedgerStore(testTables());
    const at = Date.parse('2026-11-25T15:00:00Z');
    const underOne = (instants: readonly number[]) => instants.length < 1;
    const [a, b] = await Promise.all([
      ledger.claim('c1', { at, engagementId: 'a', attemptKey: 'd-a#1' }, underOne),
      ledger.claim('c1', { at, engagementId: 'b', attemptKey: 'd-b#1' }, underOne),
    ]);
    expect([a.claimed, b.claimed].sort()).toEqual([false, true]);
    // The same attempt claimed again (handed over after a crash) is still allowed; forgetting it frees the contact.
    const winner = a.claimed ? 'd-a#1' : 'd-b#1';
    expect((await ledger.claim('c1', { at, engagementId: 'x', attemptKey: winner }, underOne)).claimed).toBe(true);
    await ledger.forget('c1', winner);
    expect((await ledger.recent(['c1'], at)).get('c1')).toBeUndefined();
  });
});
