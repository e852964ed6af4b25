import { describe, expect, it } from 'vitest';
import { OFCOM_ABANDONED_HOLD_MS, ofcomHoldUntil } from '../../src/pacing/ofcom.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const uk = [{ e164: '+447700900123' }];
const HOUR = 3_600_000;

describe('ofcomHoldUntil', () => {
  it('holds a UK number to 72 h after its latest abandoned call still inside the hold', () => {
    const previous = [
      { result: 'Abandoned' as const, at: at(10 * HOUR) },
      { result: 'Abandoned' as const, at: at(30 * HOUR) },
      { result: 'NoAnswer' as const, at: at(HOUR) },
    ];
    expect(ofcomHoldUntil(uk, previous, false, NOW)).toBe(NOW - 10 * HOUR + OFCOM_ABANDONED_HOLD_MS);
  });

  it('does not hold past 72 h, other results, non-UK numbers or a guaranteed representative', () => {
    expect(ofcomHoldUntil(uk, [{ result: 'Abandoned', at: at(OFCOM_ABANDONED_HOLD_MS) }], false, NOW)).toBeUndefined();
    expect(ofcomHoldUntil(uk, [{ result: 'LiveAnswer', at: at(HOUR) }], false, NOW)).toBeUndefined();
    expect(ofcomHoldUntil([{ e164: '+12125550123' }], [{ result: 'Abandoned', at: at(HOUR) }], false, NOW)).toBeUndefined();
    expect(ofcomHoldUntil(uk, [{ result: 'Abandoned', at: at(HOUR) }], true, NOW)).toBeUndefined();
  });
});
