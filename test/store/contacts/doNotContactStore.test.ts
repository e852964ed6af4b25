import { describe, expect, it } from 'vitest';
import { DoNotContactStore } from '../../../src/store/contacts/doNotContactStore.js';
import { testTables } from '../../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');

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
