import { describe, expect, it } from 'vitest';
import { DO_NOT_CONTACT_TABLE, DoNotContactStore } from '../../../src/store/contacts/doNotContactStore.js';
import { testTables } from '../../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const KEY = 'k'.repeat(40);

describe('do-not-contact list', () => {
  it('point checks see additions at once; another instance sees them once its filter is older than the TTL', async () => {
    let clock = NOW;
    const tables = testTables();
    const store = new DoNotContactStore(tables, 60_000, () => clock, KEY);
    const other = new DoNotContactStore(tables, 60_000, () => clock, KEY);
    expect(await other.matching(['+12125550100'])).toEqual(new Set());
    await store.add({ phone: '+12125550100' }, 'asked', 'test');
    expect(await store.matching(['+12125550100', '+12125550101', 'contact:c/1'])).toEqual(new Set(['+12125550100']));
    await store.add({ contactId: 'c/1' }, 'asked', 'test');
    expect(await store.contains({ contactId: 'c/1' })).toBe(true);
    expect(await store.contains({ phone: '+12125550199' })).toBe(false);
    expect(await other.matching(['+12125550100'])).toEqual(new Set());
    clock += 61_000;
    expect(await other.matching(['+12125550100', 'contact:c/1', 'contact:c/2'])).toEqual(new Set(['+12125550100', 'contact:c/1']));
    await store.remove({ phone: '+12125550100' });
    expect(await store.contains({ phone: '+12125550100' })).toBe(false);
    expect(await store.matching(['+12125550100'])).toEqual(new Set());
  });

  it('numbers are stored under their keyed hash, never as themselves; another key does not find them', async () => {
    const tables = testTables();
    const store = new DoNotContactStore(tables, 0, () => NOW, KEY);
    await store.add({ phone: '+442079460958' }, 'asked', 'test');
    const rows: { partitionKey?: string; rowKey?: string }[] = [];
    for await (const row of (await tables.table(DO_NOT_CONTACT_TABLE)).listEntities()) rows.push(row);
    const text = JSON.stringify(rows);
    expect(text).not.toContain('2079460958');
    expect(rows.filter((r) => r.partitionKey !== '~meta')).toEqual([
      expect.objectContaining({ partitionKey: expect.stringMatching(/^p[0-9a-f]{2}$/), rowKey: expect.stringMatching(/^[0-9a-f]{64}$/) }),
    ]);
    expect(await new DoNotContactStore(tables, 0, () => NOW, 'another-key-of-at-least-32-characters').contains({ phone: '+442079460958' })).toBe(false);
  });

  it('contact ids with characters Table keys forbid are found as they were added; removing an entry never added is not an error', async () => {
    const tables = testTables();
    const store = new DoNotContactStore(tables, 0);
    const ids = ['a/b', 'a\\b', 'a#b', 'a?b', 'a%2fb', 'tab\there'];
    for (const contactId of ids) await store.add({ contactId }, 'asked', 'test');

    await store.remove({ contactId: 'never-added' });
    await store.remove({ phone: '+12125550111' });

    const fresh = new DoNotContactStore(tables, 0);
    expect(await fresh.matching([...ids, 'a_b'].map((id) => `contact:${id}`))).toEqual(new Set(ids.map((id) => `contact:${id}`)));
    expect(await Promise.all(ids.map((contactId) => store.contains({ contactId })))).toEqual(ids.map(() => true));
    expect(await store.contains({ contactId: 'a_b' })).toBe(false);
  });

  it('a page of 3,040 keys against a list of 40, read by a second instance: the hits are exactly the listed keys', async () => {
    const tables = testTables();
    const store = new DoNotContactStore(tables, 0, () => NOW, KEY);
    const listed = Array.from({ length: 40 }, (_, i) => `+1212555${String(1000 + i)}`);
    for (const phone of listed) await store.add({ phone }, 'asked', 'test');
    const page = [...listed, ...Array.from({ length: 3000 }, (_, i) => `+1646555${String(i).padStart(4, '0')}`)];
    const fresh = new DoNotContactStore(tables, 0, () => NOW, KEY);
    expect(await fresh.matching(page)).toEqual(new Set(listed));
  });
});
