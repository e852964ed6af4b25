import { InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { buildContactBatches } from '../../src/bus/publishContactBatches.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { planDeliveries } from '../../src/planning/planDeliveries.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { RejectedMessageStore } from '../../src/store/dispatch/rejectedMessageStore.js';
import { testTables } from '../support/tables.js';
import { oneQueueCatalog } from '../support/engagements.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const catalog = oneQueueCatalog();
function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('fixture');
  return value;
}
const engagement = required(catalog.engagements.get('e'));
const queue = required(catalog.queues.get('q'));

function batch(triggerId: string, prefix: string, n = 2) {
  const { planned } = planDeliveries({
    engagement,
    queue,
    triggerId,
    now: START,
    state: { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined },
    contacts: Array.from({ length: n }, (_, i) => ({
      source: `event:${prefix}${i}`,
      contact: contactInputSchema.parse({
        contactId: `${prefix}${i}`,
        phones: { mobile: `+1212555${String(1000 + i)}` },
        windows: [{ start: new Date(START).toISOString(), end: new Date(START + 3_600_000).toISOString() }],
      }),
    })),
  });
  const [built] = buildContactBatches({ engagement, triggerId, planned, maxContacts: 500, maxBodyBytes: 200_000, now: START });
  if (built === undefined) throw new Error('fixture');
  return built.batch;
}

describe('contact-batch trigger, one message at a time', () => {
  it('a message that can never be stored goes to RejectedMessages with its reason and releases its pending marks; the others are stored', async () => {
    const tables = testTables();
    const deliveries = new DeliveryStore(tables);
    const pending = new PendingContactStore(tables);
    const rejected = new RejectedMessageStore(tables);
    const good = batch('t-good', 'g');
    const big = batch('t-big', 'b');
    const bigBody = { ...big, contacts: big.contacts.map((c) => ({ ...c, attributes: { note: 'n'.repeat(40_000) } })) };
    const refused = batch('t-refused', 'r');
    // A call-order key Table keys forbid: only Table Storage can tell, when it refuses the row.
    const refusedBody = { ...refused, contacts: refused.contacts.map((c) => ({ ...c, callOrderKey: 'a/b' })) };
    for (const b of [good, big, refused]) {
      await pending.reserve(
        'e',
        b.contacts.map((c) => ({ contactId: c.contactId, triggerId: b.triggerId, deliveryId: c.deliveryId, until: START + 86_400_000 })),
        START,
      );
    }
    const warnings: string[] = [];
    const context = new InvocationContext({
      functionName: 'contactBatches',
      logHandler: (level, ...args) => level === 'warning' && warnings.push(args.join(' ')),
    });

    const result = await storeContactBatches(
      { deliveries, rejected, pending, knownEngagement: (id) => id === 'e', queueName: 'batches', clock: () => START },
      [bigBody, good, refusedBody],
      ['m-big', 'm-good', 'm-refused'].map((messageId) => ({ messageId, enqueuedTimeUtc: undefined, deliveryCount: 1 })),
      context,
    );

    expect(result).toEqual({ stored: 2, duplicates: 0, rejected: 2 });
    expect((await rejected.list('batches')).map((r) => [r.messageId, r.reason])).toEqual([
      ['m-big', 'ContactTooLarge'],
      ['m-refused', 'StorageRefused'],
    ]);
    expect([...(await pending.byEngagement('e', START)).pending.keys()].sort()).toEqual(['g0', 'g1']);
    expect(await deliveries.get('e', good.contacts[0]?.deliveryId ?? '')).toMatchObject({ state: 'queued' });
    expect(await deliveries.get('e', refused.contacts[0]?.deliveryId ?? '')).toBeUndefined();
    expect(warnings.join('\n')).not.toMatch(/\+1212/);
  });
});
