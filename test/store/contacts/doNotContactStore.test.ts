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

  it('contact ids with characters Table keys forbid are listed as they were added; removing an entry never added is not an error', async () => {
    const store = new DoNotContactStore(testTables(), 0);
    const ids = ['a/b', 'a\\b', 'a#b', 'a?b', 'a%2fb', 'tab\there'];
    for (const contactId of ids) await store.add({ contactId }, 'asked', 'test');

    await store.remove({ contactId: 'never-added' });
    await store.remove({ phone: '+12125550111' });

    expect(await store.keys()).toEqual(new Set(ids.map((id) => `contact:${id}`)));
    expect(await Promise.all(ids.map((contactId) => store.contains({ contactId })))).toEqual(ids.map(() => true));
    expect(await store.contains({ contactId: 'a_b' })).toBe(false);
  });
});
