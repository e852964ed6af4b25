import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveUpTo, sleep, startTestBroker, type TestBroker } from './brokerFixture.js';

describe('scheduled messages on the local Service Bus broker', () => {
  let t: TestBroker;

  beforeAll(async () => {
    t = await startTestBroker([
      { Name: 'scheduled' },
      { Name: 'cancelled' },
      { Name: 'scheduled-dedup', Properties: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' } },
      { Name: 'enqueue-time' },
    ]);
  });
  afterAll(async () => t.stop());

  it('keeps a scheduled message invisible until its time, then delivers it', async () => {
    const at = new Date(Date.now() + 1_000);
    const [sequenceNumber] = await t.client.createSender('scheduled').scheduleMessages({ body: 'later', messageId: 's1' }, at);
    expect(sequenceNumber?.toNumber()).toBe(1);

    const receiver = t.client.createReceiver('scheduled', { receiveMode: 'receiveAndDelete' });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const [peeked] = await receiver.peekMessages(1);
    expect(peeked?.state).toBe('scheduled');
    expect(t.broker.stats('scheduled')).toMatchObject({ scheduled: 1, active: 0 });

    const [message] = await receiveUpTo(receiver, 1, 3_000);
    expect(Date.now()).toBeGreaterThanOrEqual(at.getTime());
    expect(message?.body).toBe('later');
    expect(message?.scheduledEnqueueTimeUtc?.getTime()).toBe(at.getTime());
    expect(message?.sequenceNumber?.toNumber()).toBe(1);
  });

  it('never delivers a cancelled scheduled message', async () => {
    const sender = t.client.createSender('cancelled');
    const at = new Date(Date.now() + 500);
    const [cancelled, kept] = await sender.scheduleMessages(
      [
        { body: 'cancel me', messageId: 'c1' },
        { body: 'keep me', messageId: 'c2' },
      ],
      at,
    );
    if (cancelled === undefined || kept === undefined) throw new Error('no sequence numbers');
    await sender.cancelScheduledMessages(cancelled);
    await sleep(700);
    const received = await receiveUpTo(t.client.createReceiver('cancelled', { receiveMode: 'receiveAndDelete' }), 2, 800);
    expect(received.map((m) => m.body)).toEqual(['keep me']);
  });

  it('runs scheduled messages through duplicate detection', async () => {
    const sender = t.client.createSender('scheduled-dedup');
    const at = new Date(Date.now() + 300);
    await sender.scheduleMessages({ body: 'first', messageId: 'dup' }, at);
    await sender.scheduleMessages({ body: 'second', messageId: 'dup' }, at);
    await sender.sendMessages({ body: 'third', messageId: 'dup' });
    expect(t.broker.stats('scheduled-dedup').scheduled).toBe(1);
    await sleep(500);
    const received = await receiveUpTo(t.client.createReceiver('scheduled-dedup', { receiveMode: 'receiveAndDelete' }), 3, 800);
    expect(received.map((m) => m.body)).toEqual(['first']);
  });

  it('honours scheduledEnqueueTimeUtc on a plain sendMessages', async () => {
    const at = new Date(Date.now() + 500);
    await t.client.createSender('enqueue-time').sendMessages({ body: 'via send', messageId: 'v1', scheduledEnqueueTimeUtc: at });
    expect(t.broker.stats('enqueue-time').scheduled).toBe(1);
    const [message] = await receiveUpTo(t.client.createReceiver('enqueue-time', { receiveMode: 'receiveAndDelete' }), 1, 2_000);
    expect(message?.body).toBe('via send');
    expect(message?.enqueuedTimeUtc?.getTime()).toBe(at.getTime());
  });
});
