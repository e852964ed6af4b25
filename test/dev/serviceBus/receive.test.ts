import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../../src/dialers/simulator/virtualClock.js';
import { internalField, receiveUpTo, rejectionOf, startTestBroker, type TestBroker } from './brokerFixture.js';

const SHORT_LOCK = { LockDuration: 'PT1S', MaxDeliveryCount: 10 };

describe('receiving from the local Service Bus broker with @azure/service-bus', () => {
  let t: TestBroker;
  // Locks and time to live run on this clock: the tests move it instead of waiting for them to run out.
  const clock = new VirtualClock(Date.now());

  beforeAll(async () => {
    t = await startTestBroker(
      [
        { Name: 'complete' },
        { Name: 'abandon' },
        { Name: 'deadletter' },
        { Name: 'renew', Properties: SHORT_LOCK },
        { Name: 'expiry', Properties: SHORT_LOCK },
        { Name: 'maxdelivery', Properties: { MaxDeliveryCount: 2 } },
        { Name: 'receive-and-delete' },
        { Name: 'peek' },
        { Name: 'subscribe' },
        { Name: 'defer' },
        { Name: 'link-closed' },
        { Name: 'ttl-dlq', Properties: { DeadLetteringOnMessageExpiration: true } },
        { Name: 'ttl-default', Properties: { DeadLetteringOnMessageExpiration: true, DefaultMessageTimeToLive: 'PT0.3S' } },
        { Name: 'ttl-drop', Properties: { DeadLetteringOnMessageExpiration: false, DefaultMessageTimeToLive: 'PT0.3S' } },
      ],
      { clock },
    );
  });
  afterAll(async () => t.stop());

  it('peekLock receive then complete removes the message; the first delivery has deliveryCount 0 and a lock', async () => {
    await t.client.createSender('complete').sendMessages({ body: 'one', messageId: 'c1' });
    const receiver = t.client.createReceiver('complete');
    const [message] = await receiveUpTo(receiver, 1);
    expect(message?.deliveryCount).toBe(0);
    expect(message?.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(message?.lockedUntilUtc?.getTime()).toBeGreaterThan(clock.now());
    expect(t.broker.stats('complete').locked).toBe(1);
    if (message !== undefined) await receiver.completeMessage(message);
    expect(t.broker.stats('complete')).toMatchObject({ active: 0, locked: 0 });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
  });

  it('abandon makes the message available again with deliveryCount + 1 and applies propertiesToModify', async () => {
    await t.client.createSender('abandon').sendMessages({ body: 'again', messageId: 'a1', applicationProperties: { keep: 1 } });
    const receiver = t.client.createReceiver('abandon');
    const [first] = await receiveUpTo(receiver, 1);
    if (first === undefined) throw new Error('nothing received');
    await receiver.abandonMessage(first, { retriedBy: 'test' });
    const [second] = await receiveUpTo(receiver, 1);
    expect(second?.messageId).toBe('a1');
    expect(second?.deliveryCount).toBe(1);
    expect(second?.applicationProperties).toEqual({ keep: 1, retriedBy: 'test' });
    if (second !== undefined) await receiver.completeMessage(second);
  });

  it('deadLetter moves the message to <queue>/$DeadLetterQueue with its reason and description', async () => {
    await t.client.createSender('deadletter').sendMessages({ body: 'poison', messageId: 'd1', applicationProperties: { k: 'v' } });
    const receiver = t.client.createReceiver('deadletter');
    const [message] = await receiveUpTo(receiver, 1);
    if (message === undefined) throw new Error('nothing received');
    await receiver.deadLetterMessage(message, { deadLetterReason: 'InvalidPhone', deadLetterErrorDescription: 'not E.164' });
    expect(t.broker.stats('deadletter')).toMatchObject({ active: 0, deadLetter: 1 });

    const dlq = t.client.createReceiver('deadletter', { subQueueType: 'deadLetter' });
    const [dead] = await receiveUpTo(dlq, 1);
    expect(dead?.body).toBe('poison');
    expect(dead?.messageId).toBe('d1');
    expect(dead?.deadLetterReason).toBe('InvalidPhone');
    expect(dead?.deadLetterErrorDescription).toBe('not E.164');
    expect(dead?.deadLetterSource).toBe('deadletter');
    expect(dead?.applicationProperties?.['k']).toBe('v');
    if (dead !== undefined) await dlq.completeMessage(dead);
    expect(t.broker.stats('deadletter').deadLetter).toBe(0);
  });

  it('renewMessageLock extends the lock past the queue LockDuration', async () => {
    await t.client.createSender('renew').sendMessages({ body: 'long job', messageId: 'r1' });
    const receiver = t.client.createReceiver('renew', { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiveUpTo(receiver, 1);
    if (message === undefined) throw new Error('nothing received');
    const firstExpiry = message.lockedUntilUtc?.getTime() ?? 0;
    clock.advanceBy(600);
    const renewed = await receiver.renewMessageLock(message);
    expect(renewed.getTime()).toBeGreaterThan(firstExpiry + 400);
    clock.advanceBy(700); // past the original 1 s lock
    expect(t.broker.stats('renew').locked).toBe(1);
    await receiver.completeMessage(message);
    expect(t.broker.stats('renew').active).toBe(0);
  });

  it('an expired lock makes the message redeliverable with deliveryCount + 1, and settling the old lock fails with MessageLockLost', async () => {
    await t.client.createSender('expiry').sendMessages({ body: 'slow', messageId: 'e1' });
    const receiver = t.client.createReceiver('expiry', { maxAutoLockRenewalDurationInMs: 0 });
    const [first] = await receiveUpTo(receiver, 1);
    if (first === undefined) throw new Error('nothing received');
    clock.advanceBy(1_300);
    const [again] = await receiveUpTo(receiver, 1);
    expect(again?.messageId).toBe('e1');
    expect(again?.deliveryCount).toBe(1);
    const error = await rejectionOf(receiver.completeMessage(first));
    expect(error.code).toBe('MessageLockLost');
    if (again !== undefined) await receiver.completeMessage(again);
  });

  it('dead-letters with MaxDeliveryCountExceeded once MaxDeliveryCount deliveries were abandoned', async () => {
    await t.client.createSender('maxdelivery').sendMessages({ body: 'flaky', messageId: 'm1' });
    const receiver = t.client.createReceiver('maxdelivery');
    for (let attempt = 0; attempt < 2; attempt++) {
      const [message] = await receiveUpTo(receiver, 1);
      expect(message?.deliveryCount).toBe(attempt);
      if (message !== undefined) await receiver.abandonMessage(message);
    }
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    const [dead] = await receiveUpTo(t.client.createReceiver('maxdelivery', { subQueueType: 'deadLetter' }), 1);
    expect(dead?.messageId).toBe('m1');
    expect(dead?.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    expect(dead?.deadLetterErrorDescription).toBe('Message could not be consumed after 2 delivery attempts.');
  });

  it('receiveAndDelete removes messages on delivery and gives no lock token', async () => {
    await t.client.createSender('receive-and-delete').sendMessages([
      { body: 1, messageId: 'x1' },
      { body: 2, messageId: 'x2' },
    ]);
    const received = await receiveUpTo(t.client.createReceiver('receive-and-delete', { receiveMode: 'receiveAndDelete' }), 2);
    expect(received.map((m) => m.body)).toEqual([1, 2]);
    expect(received.every((m) => m.lockToken === undefined)).toBe(true);
    expect(t.broker.stats('receive-and-delete')).toMatchObject({ active: 0, locked: 0 });
  });

  it('peekMessages returns messages in sequence order without locking them, continuing where the last peek stopped', async () => {
    await t.client.createSender('peek').sendMessages(Array.from({ length: 5 }, (_, i) => ({ body: i, messageId: `p${i}` })));
    const receiver = t.client.createReceiver('peek');
    const first = await receiver.peekMessages(3);
    const rest = await receiver.peekMessages(10);
    expect(first.map((m) => m.body)).toEqual([0, 1, 2]);
    expect(rest.map((m) => m.body)).toEqual([3, 4]);
    expect(first.map((m) => m.sequenceNumber?.toNumber())).toEqual([1, 2, 3]);
    expect(first.every((m) => m.lockToken === undefined && m.state === 'active')).toBe(true);
    expect(t.broker.stats('peek')).toMatchObject({ active: 5, locked: 0 });
    expect(await receiver.peekMessages(1, { fromSequenceNumber: rest[1]?.sequenceNumber })).toHaveLength(1);
    expect(await receiver.peekMessages(5)).toEqual([]);
  });

  it('subscribe delivers every message to processMessage and completes it', async () => {
    const count = 50;
    await t.client.createSender('subscribe').sendMessages(Array.from({ length: count }, (_, i) => ({ body: i, messageId: `s${i}` })));
    const receiver = t.client.createReceiver('subscribe');
    const seen: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = receiver.subscribe(
        {
          processMessage: async (message) => {
            seen.push(message.body);
            if (seen.length === count) void subscription.close().then(resolve, reject);
          },
          processError: async (args) => reject(args.error),
        },
        { maxConcurrentCalls: 5 },
      );
    });
    // Auto-complete of the last messages settles after processMessage returns: wait for the broker to see it.
    await vi.waitFor(() => expect(t.broker.stats('subscribe')).toMatchObject({ active: 0, locked: 0 }), { timeout: 3_000 });
    expect([...seen].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(t.broker.stats('subscribe')).toMatchObject({ active: 0, locked: 0 });
  });

  it('defer keeps a message for receiveDeferredMessages; settling it goes through $management update-disposition', async () => {
    await t.client.createSender('defer').sendMessages([
      { body: 'later', messageId: 'f1' },
      { body: 'dead', messageId: 'f2' },
      { body: 'back', messageId: 'f3' },
    ]);
    const receiver = t.client.createReceiver('defer');
    const received = await receiveUpTo(receiver, 3);
    for (const message of received) await receiver.deferMessage(message);
    expect(t.broker.stats('defer')).toMatchObject({ deferred: 3, locked: 0 });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);

    const sequenceNumbers = received.flatMap((m) => (m.sequenceNumber === undefined ? [] : [m.sequenceNumber]));
    const deferred = await receiver.receiveDeferredMessages(sequenceNumbers);
    expect(deferred.map((m) => m.body)).toEqual(['later', 'dead', 'back']);
    expect(deferred.every((m) => m.state === 'deferred')).toBe(true);
    const [later, dead, back] = deferred;
    if (later === undefined || dead === undefined || back === undefined) throw new Error('missing deferred messages');
    await receiver.completeMessage(later);
    await receiver.deadLetterMessage(dead, { deadLetterReason: 'ViaManagement', deadLetterErrorDescription: 'update-disposition' });
    await receiver.abandonMessage(back);
    expect(t.broker.stats('defer')).toMatchObject({ deferred: 1, locked: 0, deadLetter: 1 });
    const error = await rejectionOf(receiver.completeMessage(later));
    expect(error.message).toMatch(/already been settled|lock/i);
    const [dlq] = await receiveUpTo(t.client.createReceiver('defer', { subQueueType: 'deadLetter' }), 1);
    expect(dlq?.deadLetterReason).toBe('ViaManagement');
  });

  it('keeps locks when the receive link closes, so the SDK can settle through $management update-disposition', async () => {
    await t.client.createSender('link-closed').sendMessages([1, 2].map((i) => ({ body: i, messageId: `l${i}` })));
    const receiver = t.client.createReceiver('link-closed');
    const [first, second] = await receiveUpTo(receiver, 2);
    if (first === undefined || second === undefined) throw new Error('nothing received');
    // Close only the AMQP link underneath the receiver, as a link error or the SDK's drain timeout would.
    const link = internalField(receiver, '_batchingReceiver', 'link');
    const close = internalField(link, 'close');
    if (typeof close !== 'function') throw new Error('the SDK receiver link has no close()');
    await Reflect.apply(close, link, []);
    expect(t.broker.stats('link-closed').locked).toBe(2);

    await receiver.completeMessage(first);
    await receiver.abandonMessage(second);
    expect(t.broker.stats('link-closed')).toMatchObject({ active: 1, locked: 0 });
    const [again] = await receiveUpTo(t.client.createReceiver('link-closed', { receiveMode: 'receiveAndDelete' }), 1);
    expect(again?.body).toBe(2);
    expect(again?.deliveryCount).toBe(1);
  });

  it('does not deliver a message whose timeToLive passed and dead-letters it with TTLExpiredException', async () => {
    await t.client.createSender('ttl-dlq').sendMessages([
      { body: 'stale', messageId: 't1', timeToLive: 200 },
      { body: 'fresh', messageId: 't2' },
    ]);
    clock.advanceBy(400);
    const received = await receiveUpTo(t.client.createReceiver('ttl-dlq', { receiveMode: 'receiveAndDelete' }), 2, 800);
    expect(received.map((m) => m.body)).toEqual(['fresh']);
    const [dead] = await receiveUpTo(t.client.createReceiver('ttl-dlq', { subQueueType: 'deadLetter' }), 1);
    expect(dead?.messageId).toBe('t1');
    expect(dead?.deadLetterReason).toBe('TTLExpiredException');
  });

  it('applies the queue DefaultMessageTimeToLive to messages without their own', async () => {
    await t.client.createSender('ttl-default').sendMessages({ body: 'default ttl', messageId: 'td1' });
    const peeked = await t.client.createReceiver('ttl-default').peekMessages(1);
    expect(peeked[0]?.timeToLive).toBe(300);
    clock.advanceBy(450);
    expect(await t.client.createReceiver('ttl-default').receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    expect(t.broker.stats('ttl-default')).toMatchObject({ active: 0, deadLetter: 1 });
  });

  it('drops expired messages when DeadLetteringOnMessageExpiration is false', async () => {
    await t.client.createSender('ttl-drop').sendMessages({ body: 'gone', messageId: 'g1' });
    clock.advanceBy(450);
    expect(await t.client.createReceiver('ttl-drop').receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    expect(t.broker.stats('ttl-drop')).toMatchObject({ active: 0, deadLetter: 0 });
  });
});
