import type { ServiceBusMessage } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MESSAGE_SIZE_BYTES } from '../../../dev/serviceBus/broker.js';
import { receiveUpTo, rejectionOf, startTestBroker, type TestBroker } from './brokerFixture.js';

const DEDUP = { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' };

describe('sending through the local Service Bus broker with @azure/service-bus', () => {
  let t: TestBroker;

  beforeAll(async () => {
    t = await startTestBroker([
      { Name: 'roundtrip' },
      // Its own queue: the round-trip test pins sequence number 1, whichever test runs first.
      { Name: 'binary' },
      { Name: 'arrays' },
      { Name: 'batches' },
      { Name: 'oversize' },
      { Name: 'dedup', Properties: DEDUP },
      { Name: 'nodedup' },
    ]);
  });
  afterAll(async () => t.stop());

  it('round-trips body, applicationProperties, messageId, correlationId, subject, contentType and timeToLive of a single message', async () => {
    const sent: ServiceBusMessage = {
      body: { phone: '+15550100', attempts: 3, nested: { ok: true } },
      applicationProperties: { int: 42, negative: -7, double: 1.5, large: 2 ** 40, flag: true, text: 'x', empty: '' },
      messageId: 'msg-1',
      correlationId: 'corr-1',
      subject: 'contact-batch',
      contentType: 'application/json',
      timeToLive: 90_000,
    };
    await t.client.createSender('roundtrip').sendMessages(sent);
    const [received] = await receiveUpTo(t.client.createReceiver('roundtrip', { receiveMode: 'receiveAndDelete' }), 1);

    expect(received?.body).toEqual(sent.body);
    expect(received?.applicationProperties).toEqual(sent.applicationProperties);
    expect(received?.messageId).toBe('msg-1');
    expect(received?.correlationId).toBe('corr-1');
    expect(received?.subject).toBe('contact-batch');
    expect(received?.contentType).toBe('application/json');
    expect(received?.timeToLive).toBe(90_000);
    expect(received?.sequenceNumber?.toNumber()).toBe(1);
    expect(received?.enqueuedTimeUtc).toBeInstanceOf(Date);
    expect(received?.expiresAtUtc?.getTime()).toBe((received?.enqueuedTimeUtc?.getTime() ?? 0) + 90_000);
  });

  it('round-trips a binary body byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    await t.client.createSender('binary').sendMessages({ body: bytes, messageId: 'binary' });
    const [received] = await receiveUpTo(t.client.createReceiver('binary', { receiveMode: 'receiveAndDelete' }), 1);
    expect(Buffer.compare(received?.body as Buffer, bytes)).toBe(0);
  });

  it('stores an array of messages as individual messages in order', async () => {
    const messages = Array.from({ length: 25 }, (_, i) => ({ body: `m${i}`, messageId: `a${i}`, applicationProperties: { i } }));
    await t.client.createSender('arrays').sendMessages(messages);
    expect(t.broker.stats('arrays').active).toBe(25);
    const received = await receiveUpTo(t.client.createReceiver('arrays', { receiveMode: 'receiveAndDelete' }), 25);
    expect(received.map((m) => m.body)).toEqual(messages.map((m) => m.body));
    expect(received.map((m) => m.applicationProperties?.['i'])).toEqual(messages.map((m) => m.applicationProperties.i));
  });

  it('advertises max_message_size so createMessageBatch is limited to 256 KiB, and stores a full batch message by message', async () => {
    const sender = t.client.createSender('batches');
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(DEFAULT_MAX_MESSAGE_SIZE_BYTES);
    const body = 'x'.repeat(1024);
    let added = 0;
    while (batch.tryAddMessage({ body, messageId: `b${added}` })) added++;
    expect(added).toBeGreaterThan(200);
    expect(batch.tryAddMessage({ body: 'y'.repeat(300 * 1024) })).toBe(false);
    await sender.sendMessages(batch);
    expect(t.broker.stats('batches').active).toBe(added);

    const single = await sender.createMessageBatch();
    expect(single.tryAddMessage({ body: 'only', messageId: 'single' })).toBe(true);
    await sender.sendMessages(single);
    expect(t.broker.stats('batches').active).toBe(added + 1);
  });

  it('rejects a single message over the size limit with MessageSizeExceeded and stores nothing', async () => {
    const error = await rejectionOf(t.client.createSender('oversize').sendMessages({ body: Buffer.alloc(DEFAULT_MAX_MESSAGE_SIZE_BYTES + 1) }));
    expect(error.code).toBe('MessageSizeExceeded');
    expect(error.message).toMatch(/exceeds the limit \(262144 bytes\)/);
    expect(t.broker.stats('oversize').active).toBe(0);
  });

  it('accepts a duplicate messageId within the detection window and stores the message once', async () => {
    const sender = t.client.createSender('dedup');
    await sender.sendMessages({ body: 'first', messageId: 'same-id' });
    await sender.sendMessages({ body: 'second', messageId: 'same-id' });
    await sender.sendMessages([
      { body: 'third', messageId: 'same-id' },
      { body: 'other', messageId: 'other-id' },
    ]);
    expect(t.broker.stats('dedup').active).toBe(2);
    const received = await receiveUpTo(t.client.createReceiver('dedup', { receiveMode: 'receiveAndDelete' }), 3, 1_000);
    expect(received.map((m) => m.body)).toEqual(['first', 'other']);
  });

  it('stores repeated messageIds when the queue does not require duplicate detection', async () => {
    const sender = t.client.createSender('nodedup');
    await sender.sendMessages({ body: 'first', messageId: 'same-id' });
    await sender.sendMessages({ body: 'second', messageId: 'same-id' });
    expect(t.broker.stats('nodedup').active).toBe(2);
  });

  it('fails a send to a missing queue with MessagingEntityNotFound naming the queue', async () => {
    const error = await rejectionOf(t.client.createSender('no-such-queue').sendMessages({ body: 'x' }));
    expect(error.code).toBe('MessagingEntityNotFound');
    expect(error.message).toContain("'no-such-queue'");
  });

  it('fails a receive from a missing queue with MessagingEntityNotFound naming the queue', async () => {
    const error = await rejectionOf(t.client.createReceiver('no-such-queue').receiveMessages(1, { maxWaitTimeInMs: 200 }));
    expect(error.code).toBe('MessagingEntityNotFound');
    expect(error.message).toContain("'no-such-queue'");
  });
});

describe('a broker started with a smaller maxMessageSizeBytes', () => {
  it('advertises that limit to createMessageBatch and enforces it on single messages', async () => {
    const t = await startTestBroker([{ Name: 'q' }], { maxMessageSizeBytes: 4096 });
    try {
      const sender = t.client.createSender('q');
      expect((await sender.createMessageBatch()).maxSizeInBytes).toBe(4096);
      const error = await rejectionOf(sender.sendMessages({ body: 'z'.repeat(5000) }));
      expect(error.code).toBe('MessageSizeExceeded');
    } finally {
      await t.stop();
    }
  });
});
