import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from './brokerFixture.js';

const MESSAGE_COUNT = 10_000;

describe('competing consumers on the local Service Bus broker', () => {
  let t: TestBroker;

  beforeAll(async () => {
    t = await startTestBroker([{ Name: 'work', Properties: { LockDuration: 'PT1M', MaxDeliveryCount: 10 } }]);
  });
  afterAll(async () => t.stop());

  it('delivers each of 10,000 messages to one of two receivers on separate connections and completes each exactly once', async () => {
    const sender = t.client.createSender('work');
    let batch = await sender.createMessageBatch();
    for (let i = 0; i < MESSAGE_COUNT; i++) {
      const message = { body: { i }, messageId: `w${i}` };
      if (!batch.tryAddMessage(message)) {
        await sender.sendMessages(batch);
        batch = await sender.createMessageBatch();
        expect(batch.tryAddMessage(message)).toBe(true);
      }
    }
    await sender.sendMessages(batch);
    expect(t.broker.stats('work').active).toBe(MESSAGE_COUNT);

    const deliveries = new Map<string, number>();
    const completedBy = { subscriber: 0, poller: 0 };
    let completed = 0;
    const note = (message: ServiceBusReceivedMessage): void => {
      const id = String(message.messageId);
      deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
    };

    let finish: () => void = () => undefined;
    const allDone = new Promise<void>((resolve) => (finish = resolve));
    const onCompleted = (who: keyof typeof completedBy): void => {
      completedBy[who]++;
      if (++completed === MESSAGE_COUNT) finish();
    };

    // One receiver streams with subscribe, the other polls with receiveMessages: both SDK paths compete.
    const subscriberReceiver = t.newClient().createReceiver('work');
    const subscription = subscriberReceiver.subscribe(
      {
        processMessage: async (message) => {
          note(message);
          await subscriberReceiver.completeMessage(message);
          onCompleted('subscriber');
        },
        processError: async (args) => {
          throw args.error;
        },
      },
      { maxConcurrentCalls: 20, autoCompleteMessages: false },
    );
    const pollerReceiver = t.newClient().createReceiver('work');
    const poll = (async () => {
      while (completed < MESSAGE_COUNT) {
        const messages = await pollerReceiver.receiveMessages(100, { maxWaitTimeInMs: 200 });
        await Promise.all(
          messages.map(async (message) => {
            note(message);
            await pollerReceiver.completeMessage(message);
            onCompleted('poller');
          }),
        );
      }
    })();

    await allDone;
    await Promise.all([subscription.close(), poll]);

    expect(deliveries.size).toBe(MESSAGE_COUNT);
    expect([...deliveries.values()].every((count) => count === 1)).toBe(true);
    expect(completedBy.subscriber + completedBy.poller).toBe(MESSAGE_COUNT);
    expect(completedBy.subscriber).toBeGreaterThan(0);
    expect(completedBy.poller).toBeGreaterThan(0);
    expect(t.broker.stats('work')).toMatchObject({ active: 0, locked: 0, deadLetter: 0 });
  }, 120_000);
});
