import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { IntakeService, type AcceptedTrigger, type Trigger } from '../../src/intake/intakeService.js';
import { deliveryIdFor, type TriggerContact } from '../../src/planning/planDeliveries.js';
import { AcceptedTriggerStore } from '../../src/store/contacts/acceptedTriggerStore.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { startBroker } from '../support/serviceBus.js';
import { testTables } from '../support/tables.js';
import { oneQueueCatalog } from '../support/engagements.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');
const catalog = oneQueueCatalog();

let broker: Awaited<ReturnType<typeof startBroker>>;
beforeAll(async () => {
  broker = await startBroker([{ name: 'batches', duplicateDetection: true }]);
});
afterAll(async () => broker.stop());

function trigger(sourceKey: string, ids: readonly string[]): Trigger {
  return {
    sourceKey,
    contacts: ids.map((id, i) => ({
      source: `segment:${sourceKey}`,
      contact: contactInputSchema.parse({
        contactId: id,
        phones: { mobile: `+1212555${String(2000 + i)}` },
        windows: [{ start: new Date(NOW).toISOString(), end: new Date(NOW + 8 * 3_600_000).toISOString() }],
      }),
    })),
  };
}

function service(options: { batchMaxContacts?: number; acceptedTriggers?: boolean } = {}) {
  const tables = testTables();
  const pending = new PendingContactStore(tables);
  const doNotContact = new DoNotContactStore(tables, 0);
  const intake = new IntakeService({
    catalog,
    doNotContact,
    ledger: new FrequencyLedgerStore(tables),
    pending,
    sender: broker.client.createSender('batches'),
    batchMaxContacts: options.batchMaxContacts ?? 500,
    ...(options.acceptedTriggers === true ? { acceptedTriggers: new AcceptedTriggerStore<AcceptedTrigger>(tables) } : {}),
    clock: () => NOW,
  });
  return { intake, pending, doNotContact };
}

describe('intake reservations', () => {
  it('two triggers carrying the same contact at the same moment: exactly one accepts it', async () => {
    const { intake } = service();
    const [a, b] = await Promise.all([intake.accept('e', trigger('page-a', ['c1', 'c2'])), intake.accept('e', trigger('page-b', ['c1', 'c3']))]);
    expect(a.accepted + b.accepted).toBe(3);
    expect(a.skipped.duplicate + b.skipped.duplicate).toBe(1);
  });

  it('a replayed trigger of a finished delivery changes nothing, and a new trigger engages the contact again', async () => {
    const { intake, pending } = service();
    const first = await intake.accept('e', trigger('page-1', ['c1']));
    expect(first.accepted).toBe(1);
    // A retry of the same trigger while its delivery runs is the same trigger: accepted again, idempotently.
    expect((await intake.accept('e', trigger('page-1', ['c1']))).accepted).toBe(1);
    // Another trigger while it runs: a duplicate.
    expect((await intake.accept('e', trigger('page-2', ['c1']))).skipped.duplicate).toBe(1);
    expect((await pending.byEngagement('e', NOW)).pending.get('c1')).toBe(first.triggerId);
    // The delivery ends: dispatch releases the mark.
    await pending.clear('e', 'c1', deliveryOf('page-1', 'c1'));
    const replay = await intake.accept('e', trigger('page-1', ['c1']));
    expect(replay).toMatchObject({ accepted: 0, batches: 0 });
    expect(replay.skipped.duplicate).toBe(1);
    expect((await pending.byEngagement('e', NOW)).pending.has('c1')).toBe(false);
    const fresh = await intake.accept('e', trigger('page-3', ['c1']));
    expect(fresh.accepted).toBe(1);
    expect((await pending.byEngagement('e', NOW)).pending.get('c1')).toBe(fresh.triggerId);
  });
});

describe('intake at scale', () => {
  it('a page planned in slices: a contact repeated in a later slice is one duplicate, a listed number is skipped, and batch ids follow positions', async () => {
    // 5 contacts per batch, 10 batches per slice: a 120-contact page is three slices.
    const { intake, doNotContact } = service({ batchMaxContacts: 5 });
    const ids = Array.from({ length: 120 }, (_, i) => (i === 110 ? 'c3' : `c${i}`));
    const page = trigger('sliced', ids);
    await doNotContact.add({ phone: `+1212555${String(2000 + 70)}` }, 'asked', 'test');
    const before = broker.broker.stats('batches').active;
    const result = await intake.accept('e', page);
    expect(result).toMatchObject({ received: 120, accepted: 118, batches: 24 });
    expect(result.skipped).toMatchObject({ duplicate: 1, 'do-not-contact': 1 });
    expect(broker.broker.stats('batches').active - before).toBe(24);
  });

  it('a streamed page is read a slice at a time, each slice published before the next is read, with the answer of the same page as an array', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => (i === 110 ? 'c3' : `c${i}`));
    const asArray = await service({ batchMaxContacts: 5 }).intake.accept('e', trigger('as-array', ids));
    for (const firstSeen of [false, true]) {
      const { intake } = service({ batchMaxContacts: 5 });
      const page = trigger(`streamed-${firstSeen}`, ids);
      const start = broker.broker.stats('batches').active;
      // Messages on the queue when each contact is pulled: slice n (50 contacts) is read only once slice n-1's 10 batches are out.
      const publishedWhenPulled: number[] = [];
      async function* stream() {
        for (const contact of page.contacts as readonly TriggerContact[]) {
          publishedWhenPulled.push(broker.broker.stats('batches').active - start);
          yield contact;
        }
      }
      const positions = new Map<string, number>();
      ids.forEach((id, i) => positions.set(id, positions.get(id) ?? i));
      const result = await intake.accept('e', { sourceKey: page.sourceKey, contacts: stream(), ...(firstSeen ? { firstSeen: positions } : {}) });
      expect(publishedWhenPulled.slice(0, 50)).toEqual(Array(50).fill(0));
      expect(publishedWhenPulled.slice(50, 100)).toEqual(Array(50).fill(10));
      expect(publishedWhenPulled.slice(100)).toEqual(Array(20).fill(20));
      expect({ ...result, triggerId: '' }).toEqual({ ...asArray, triggerId: '' });
      expect(result).toMatchObject({ received: 120, accepted: 119, batches: 24, skipped: { duplicate: 1 } });
    }
  });

  it('a finished trigger posted again answers from its record and does nothing again', async () => {
    const { intake, pending } = service({ acceptedTriggers: true });
    const first = await intake.accept('e', trigger('page-once', ['c1', 'c2']));
    await pending.clear('e', 'c1', deliveryOf('page-once', 'c1'));
    const again = await intake.accept('e', trigger('page-once', ['c1', 'c2']));
    expect(again).toEqual({ ...first, replay: true });
    expect((await pending.byEngagement('e', NOW)).pending.has('c1')).toBe(false);
  });
});

/** The delivery id intake reserved for the contact (the planner derives it from the source and the contact). */
function deliveryOf(sourceKey: string, contactId: string): string {
  return deliveryIdFor('e', `segment:${sourceKey}`, contactId);
}
