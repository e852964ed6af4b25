import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/dialers/simulator/virtualClock.js';
import { receiveUpTo, startTestBroker, type TestBroker } from './brokerFixture.js';

/** Far enough ahead that no amount of real time spent by the test makes a difference: only the clock moves it. */
const LATER_MS = 60_000;

describe('scheduled messages on the local Service Bus broker', () => {
  let t: TestBroker;
  const clock = new VirtualClock(Date.now());

  beforeAll(async () => {
    t = await startTestBroker(
      [
        { Name: 'scheduled' },
        { Name: 'cancelled' },
        { Name: 'scheduled-dedup', Properties: { RequiresDuplicateDetection: true, DuplicateDetectionHistoryTimeWindow: 'PT1M' } },
        { Name: 'enqueue-time' },
      ],
      { clock },
    );
  });
  afterAll(async () => t.stop());

  it('keeps a scheduled message invisible until its time, then delivers it', async () => {
    const at = new Date(clock.now() + LATER_MS);
    const [sequenceNumber] = await t.client.createSender('scheduled').scheduleMessages({ body: 'later', messageId: 's1' }, at);
    expect(sequenceNumber?.toNumber()).toBe(1);

    const receiver = t.client.createReceiver('scheduled', { receiveMode: 'receiveAndDelete' });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const [peeked] = await receiver.peekMessages(1);
    expect(peeked?.state).toBe('scheduled');
    expect(t.broker.stats('scheduled')).toMatchObject({ scheduled: 1, active: 0 });

    clock.advanceTo(at.getTime());
    const [message] = await receiveUpTo(receiver, 1, 3_000);
    expect(clock.now()).toBeGreaterThanOrEqual(at.getTime());
    expect(message?.body).toBe('later');
    expect(message?.scheduledEnqueueTimeUtc?.getTime()).toBe(at.getTime());
    expect(message?.sequenceNumber?.toNumber()).toBe(1);
  });

  it('never delivers a cancelled scheduled message', async () => {
    const sender = t.client.createSender('cancelled');
    const at = new Date(clock.now() + LATER_MS);
    const [cancelled, kept] = await sender.scheduleMessages(
      [
        { body: 'cancel me', messageId: 'c1' },
        { body: 'keep me', messageId: 'c2' },
      ],
      at,
    );
    if (cancelled === undefined || kept === undefined) throw new Error('no sequence numbers');
    await sender.cancelScheduledMessages(cancelled);
    clock.advanceTo(at.getTime());
    const received = await receiveUpTo(t.client.createReceiver('cancelled', { receiveMode: 'receiveAndDelete' }), 2, 800);
    expect(received.map((m) => m.body)).toEqual(['keep me']);
  });

  it('runs scheduled messages through duplicate detection', async () => {
    const sender = t.client.createSender('scheduled-dedup');
    const at = new Date(clock.now() + LATER_MS);
    await sender.scheduleMessages({ body: 'first', messageId: 'dup' }, at);
    await sender.scheduleMessages({ body: 'second', messageId: 'dup' }, at);
    await sender.sendMessages({ body: 'third', messageId: 'dup' });
    expect(t.broker.stats('scheduled-dedup').scheduled).toBe(1);
    clock.advanceTo(at.getTime());
    const received = await receiveUpTo(t.client.createReceiver('scheduled-dedup', { receiveMode: 'receiveAndDelete' }), 3, 800);
    expect(received.map((m) => m.body)).toEqual(['first']);
  });

  it('honours scheduledEnqueueTimeUtc on a plain sendMessages', async () => {
    const at = new Date(clock.now() + LATER_MS);
    await t.client.createSender('enqueue-time').sendMessages({ body: 'via send', messageId: 'v1', scheduledEnqueueTimeUtc: at });
    expect(t.broker.stats('enqueue-time').scheduled).toBe(1);
    clock.advanceTo(at.getTime());
    const [message] = await receiveUpTo(t.client.createReceiver('enqueue-time', { receiveMode: 'receiveAndDelete' }), 1, 2_000);
    expect(message?.body).toBe('via send');
    expect(message?.enqueuedTimeUtc?.getTime()).toBe(at.getTime());
  });
});
