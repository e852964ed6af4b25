import { describe, expect, it } from 'vitest';
import { PendingContactStore } from '../../../src/store/contacts/pendingContactStore.js';
import { testTables } from '../../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const DAY = 86_400_000;
const mark = (contactId: string, triggerId: string, deliveryId: string, until = NOW + DAY) => ({ contactId, triggerId, deliveryId, until });

describe('pending contacts', () => {
  it('reserves contacts per engagement, and only the delivery holding a mark releases it', async () => {
    const pending = new PendingContactStore(testTables());
    const contacts = Array.from({ length: 150 }, (_, i) => mark(`c${i}`, 't1', `d${i}`));
    const reserved = await pending.reserve('e1', contacts, NOW);
    expect(reserved.reserved.size).toBe(150);
    expect(reserved.fresh.size).toBe(150);
    await pending.clear('e1', 'c1', 'some-other-delivery');
    await pending.clear('e1', 'c2', 'd2');
    const after = await pending.byEngagement('e1', NOW);
    expect(after.pending.size).toBe(149);
    expect(after.pending.get('c1')).toBe('t1');
    expect(after.pending.has('c2')).toBe(false);
    expect(after.finished.has('d2')).toBe(true);
    expect((await pending.byEngagement('e2', NOW)).pending.size).toBe(0);
  });

  it('ids with characters Table Storage forbids in keys round-trip', async () => {
    const pending = new PendingContactStore(testTables());
    const ids = ['a/b', 'c\\d', 'e#f', 'g?h', '100%'];
    await pending.reserve(
      'e1',
      ids.map((id, i) => mark(id, 't', `d${i}`)),
      NOW,
    );
    await pending.clear('e1', 'a/b', 'd0');
    expect([...(await pending.byEngagement('e1', NOW)).pending.keys()].sort()).toEqual(ids.slice(1).sort());
  });

  it('two triggers reserving one contact at the same moment: exactly one wins, and its retry still holds it', async () => {
    const pending = new PendingContactStore(testTables());
    const [first, second] = await Promise.all([pending.reserve('e1', [mark('c1', 'tA', 'dA')], NOW), pending.reserve('e1', [mark('c1', 'tB', 'dB')], NOW)]);
    expect(first.reserved.size + second.reserved.size).toBe(1);
    const winner = first.reserved.size === 1 ? 'tA' : 'tB';
    const retry = await pending.reserve('e1', [mark('c1', winner, `d${winner.slice(1)}`)], NOW);
    expect(retry.reserved.has('c1')).toBe(true);
    expect(retry.fresh.size).toBe(0);
  });

  it('a released contact can be reserved again by a new trigger, racing ones still win once; the finished delivery is remembered', async () => {
    const pending = new PendingContactStore(testTables());
    await pending.reserve('e1', [mark('c1', 't1', 'd1')], NOW);
    await pending.clear('e1', 'c1', 'd1');
    await pending.clear('e1', 'c1', 'd1');
    const [x, y] = await Promise.all([pending.reserve('e1', [mark('c1', 't2', 'd2')], NOW), pending.reserve('e1', [mark('c1', 't3', 'd3')], NOW)]);
    expect(x.reserved.size + y.reserved.size).toBe(1);
    const after = await pending.byEngagement('e1', NOW);
    expect(after.finished).toEqual(new Set(['d1']));
    expect(after.pending.size).toBe(1);
  });

  it('a mark past its lapse time no longer holds the contact (a reservation whose batch was never stored)', async () => {
    const pending = new PendingContactStore(testTables());
    await pending.reserve('e1', [mark('c1', 't1', 'd1', NOW + 1000)], NOW);
    expect((await pending.byEngagement('e1', NOW)).pending.has('c1')).toBe(true);
    const later = await pending.byEngagement('e1', NOW + 2000);
    expect(later.pending.has('c1')).toBe(false);
    expect((await pending.reserve('e1', [mark('c1', 't2', 'd2', NOW + DAY)], NOW + 2000)).reserved.has('c1')).toBe(true);
  });

  it('a page mixing new contacts, a retry of the same trigger, a contact held elsewhere and a replayed finished delivery: only what is free is written', async () => {
    const pending = new PendingContactStore(testTables());
    await pending.reserve('e1', [mark('held', 'tOther', 'dOther'), mark('mine', 't1', 'd-mine')], NOW);
    await pending.reserve('e1', [mark('done', 't0', 'd-done')], NOW);
    await pending.clear('e1', 'done', 'd-done');
    await pending.reserve('e1', [mark('again', 't0', 'd-again-old')], NOW);
    await pending.clear('e1', 'again', 'd-again-old');
    const page = [
      ...Array.from({ length: 120 }, (_, i) => mark(`new${i}`, 't1', `d-new${i}`)),
      mark('held', 't1', 'd-held'),
      mark('mine', 't1', 'd-mine'),
      mark('done', 't1', 'd-done'),
      mark('again', 't1', 'd-again'),
    ];
    const result = await pending.reserve('e1', page, NOW);
    expect([...result.reserved].filter((id) => !id.startsWith('new')).sort()).toEqual(['again', 'mine']);
    expect(result.reserved.size).toBe(122);
    expect([...result.fresh].filter((id) => !id.startsWith('new'))).toEqual(['again']);
    const after = await pending.byEngagement('e1', NOW);
    expect(after.pending.get('held')).toBe('tOther');
    expect(after.pending.has('done')).toBe(false);
    expect(after.pending.get('again')).toBe('t1');
    expect(after.finished).toEqual(new Set(['d-done', 'd-again-old']));
  });

  it('a reservation given back after a failed publish frees the contact', async () => {
    const pending = new PendingContactStore(testTables());
    await pending.reserve('e1', [mark('c1', 't1', 'd1')], NOW);
    await pending.unreserve('e1', [{ contactId: 'c1', deliveryId: 'd1' }]);
    const after = await pending.byEngagement('e1', NOW);
    expect(after.pending.has('c1')).toBe(false);
    expect(after.finished.has('d1')).toBe(false);
  });
});
