import { describe, expect, it } from 'vitest';
import { PendingContactStore } from '../../../src/store/contacts/pendingContactStore.js';
import { testTables } from '../../support/tables.js';

describe('pending contacts', () => {
  it('marks by engagement and clears only for the delivery that marked it', async () => {
    const pending = new PendingContactStore(testTables());
    await pending.markPending(
      'e1',
      Array.from({ length: 150 }, (_, i) => ({ contactId: `c${i}`, triggerId: 't1', deliveryId: `d${i}` })),
    );
    expect((await pending.byEngagement('e1')).size).toBe(150);
    await pending.clear('e1', 'c1', 'some-other-delivery');
    await pending.clear('e1', 'c2', 'd2');
    const after = await pending.byEngagement('e1');
    expect(after.get('c1')).toBe('t1');
    expect(after.has('c2')).toBe(false);
    expect((await pending.byEngagement('e2')).size).toBe(0);
  });

  it('contact ids with characters Table keys forbid come back as they were marked, and each clears on its own', async () => {
    const pending = new PendingContactStore(testTables());
    const ids = ['a/b', 'a\\b', 'a#b', 'a?b', 'a%2fb'];
    await pending.markPending(
      'e1',
      ids.map((contactId, i) => ({ contactId, triggerId: 't1', deliveryId: `d${i}` })),
    );

    await pending.clear('e1', 'a/b', 'd0');

    expect([...(await pending.byEngagement('e1')).keys()].sort()).toEqual(ids.slice(1).sort());
  });
});
