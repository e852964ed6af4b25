import { describe, expect, it } from 'vitest';
import { RejectedMessageStore, type RejectedMessage } from '../../../src/store/dispatch/rejectedMessageStore.js';
import { testTables } from '../../support/tables.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');

function rejected(messageId: string, overrides: Partial<RejectedMessage> = {}): RejectedMessage {
  return {
    queue: 'contact-batches',
    messageId,
    reason: 'InvalidBody',
    description: 'contacts[0].phones: expected at least one phone number',
    enqueuedTimeUtc: '2026-11-25T14:59:58.000Z',
    deliveryCount: 1,
    ...overrides,
  };
}

describe('rejected message store', () => {
  it('lists what was set aside with its reason, description, enqueued time, delivery count and when', async () => {
    const store = new RejectedMessageStore(testTables());

    await store.record(rejected('m-1'), NOW);
    await store.record(rejected('m-2', { reason: 'UnsupportedSchema', description: 'schema contact-batch/v0 is not supported' }), NOW + 1_000);

    expect(await store.list('contact-batches')).toEqual([
      { ...rejected('m-1'), rejectedAt: '2026-11-25T15:00:00.000Z' },
      { ...rejected('m-2', { reason: 'UnsupportedSchema', description: 'schema contact-batch/v0 is not supported' }), rejectedAt: '2026-11-25T15:00:01.000Z' },
    ]);
  });

  it('a message rejected again on redelivery keeps one row, with the latest delivery', async () => {
    const store = new RejectedMessageStore(testTables());

    await store.record(rejected('m-1', { deliveryCount: 1 }), NOW);
    await store.record(rejected('m-1', { deliveryCount: 2 }), NOW + 60_000);

    expect(await store.list('contact-batches')).toEqual([{ ...rejected('m-1', { deliveryCount: 2 }), rejectedAt: '2026-11-25T15:01:00.000Z' }]);
  });

  it('each queue lists its own messages, quotes in the name included', async () => {
    const store = new RejectedMessageStore(testTables());

    await store.record(rejected('m-1'), NOW);
    await store.record(rejected('m-2', { queue: "o'brien-batches" }), NOW);

    expect((await store.list('contact-batches')).map((m) => m.messageId)).toEqual(['m-1']);
    expect((await store.list("o'brien-batches")).map((m) => [m.queue, m.messageId])).toEqual([["o'brien-batches", 'm-2']]);
    expect(await store.list('never-used')).toEqual([]);
  });

  it('message ids with characters Table keys forbid, control characters or a lone surrogate are each kept as they were, on rows of their own', async () => {
    const store = new RejectedMessageStore(testTables());
    const ids = ['batch/2026#11?25\\a', 'a/b', 'a_b', 'tab\there\u0001\u007f', 'lone\ud800', 'x'.repeat(2_000)];

    for (const [i, id] of ids.entries()) await store.record(rejected(id), NOW + i);

    expect((await store.list('contact-batches')).map((m) => m.messageId)).toEqual([
      'batch/2026#11?25\\a',
      'a/b',
      'a_b',
      'tab\there\u0001\u007f',
      'lone\ufffd',
      'x'.repeat(1_024),
    ]);
  });

  it('a description beyond one Table property is cut to 30,000 characters; an unknown enqueued time and delivery count stay unknown', async () => {
    const store = new RejectedMessageStore(testTables());

    await store.record(rejected('m-1', { description: 'x'.repeat(40_000), enqueuedTimeUtc: undefined, deliveryCount: undefined }), NOW);

    const [stored] = await store.list('contact-batches');
    expect(stored?.description).toHaveLength(30_000);
    expect(stored).toMatchObject({ enqueuedTimeUtc: undefined, deliveryCount: 0 });
  });
});
