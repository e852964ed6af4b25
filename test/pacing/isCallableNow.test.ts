import { describe, expect, it } from 'vitest';
import { isCallableNow } from '../../src/pacing/isCallableNow.js';

const windows = [
  { start: '2026-03-10T13:00:00.000Z', end: '2026-03-10T17:00:00.000Z' },
  { start: '2026-03-11T13:00:00.000Z', end: '2026-03-11T17:00:00.000Z' },
];

describe('isCallableNow', () => {
  it('inside the second of two windows', () => {
    expect(isCallableNow(windows, new Date('2026-03-11T16:59:59.999Z'))).toBe(true);
  });
  it('start is inclusive, end exclusive', () => {
    expect(isCallableNow(windows, new Date('2026-03-10T13:00:00.000Z'))).toBe(true);
    expect(isCallableNow(windows, new Date('2026-03-10T17:00:00.000Z'))).toBe(false);
  });
  it('between windows (overnight) is not callable', () => {
    expect(isCallableNow(windows, new Date('2026-03-10T23:00:00.000Z'))).toBe(false);
  });
  it('a contact with no windows left is not callable', () => {
    expect(isCallableNow([], new Date('2026-03-10T14:00:00.000Z'))).toBe(false);
  });
});
