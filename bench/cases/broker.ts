/**
 * Throughput of the local Service Bus broker driven by the real @azure/service-bus client over AMQP on
 * loopback: batched sends, receive + complete, and single-message sends as the baseline.
 */
import { ServiceBusClient, type ServiceBusSender } from '@azure/service-bus';
import type { BenchCase } from '../run.js';
import { configWith } from '../../dev/serviceBus/config.js';
import { startServiceBusBroker } from '../../dev/serviceBus/broker.js';

const BATCHED_MESSAGES = 100_000;
const SINGLE_MESSAGES = 5_000;
const BODY_BYTES = 1_024;
/** Handlers the streaming receiver runs at once; it grants the broker that much credit. */
const MAX_CONCURRENT_CALLS = 500;
const QUEUE = 'bench';

/** A ~1 KiB JSON body shaped like a contact batch entry (synthetic numbers from the 555-01xx range). */
function body(i: number): { id: number; phone: string; pad: string } {
  return { id: i, phone: `+1555010${String(i % 100).padStart(2, '0')}`, pad: 'x'.repeat(BODY_BYTES - 64) };
}

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-US')} msg/s`;
}

async function sendBatched(sender: ServiceBusSender, count: number): Promise<{ batches: number }> {
  let batch = await sender.createMessageBatch();
  let batches = 0;
  for (let i = 0; i < count; i++) {
    const message = { body: body(i), messageId: `b-${i}` };
    if (!batch.tryAddMessage(message)) {
      await sender.sendMessages(batch);
      batches++;
      batch = await sender.createMessageBatch();
      if (!batch.tryAddMessage(message)) throw new Error(`message ${i} does not fit an empty batch`);
    }
  }
  if (batch.count > 0) {
    await sender.sendMessages(batch);
    batches++;
  }
  return { batches };
}

async function receiveAndComplete(client: ServiceBusClient, count: number): Promise<void> {
  const receiver = client.createReceiver(QUEUE, { maxAutoLockRenewalDurationInMs: 0 });
  let completed = 0;
  await new Promise<void>((resolve, reject) => {
    const subscription = receiver.subscribe(
      {
        processMessage: async (message) => {
          await receiver.completeMessage(message);
          if (++completed === count) void subscription.close().then(resolve, reject);
        },
        processError: async (args) => reject(args.error),
      },
      { maxConcurrentCalls: MAX_CONCURRENT_CALLS, autoCompleteMessages: false },
    );
  });
  await receiver.close();
}

const brokerBench: BenchCase = {
  name: 'broker',
  description: `local Service Bus broker: ${BATCHED_MESSAGES.toLocaleString('en-US')} x ~1 KiB batched send, subscribe receive+complete; single sends as baseline`,
  async run() {
    const broker = await startServiceBusBroker({
      port: 0,
      // Same settings as the product's contact-batches queue, duplicate detection included.
      config: configWith([
        {
          Name: QUEUE,
          Properties: {
            LockDuration: 'PT1M',
            MaxDeliveryCount: 10,
            RequiresDuplicateDetection: true,
            DuplicateDetectionHistoryTimeWindow: 'P1D',
            DefaultMessageTimeToLive: 'P14D',
            DeadLetteringOnMessageExpiration: true,
          },
        },
      ]),
    });
    const client = new ServiceBusClient(broker.connectionString);
    try {
      const sender = client.createSender(QUEUE);
      await sender.sendMessages({ body: 'warm-up', messageId: 'warm-up' });
      await client.createReceiver(QUEUE, { receiveMode: 'receiveAndDelete' }).receiveMessages(1, { maxWaitTimeInMs: 1_000 });

      let started = performance.now();
      for (let i = 0; i < SINGLE_MESSAGES; i++) await sender.sendMessages({ body: body(i), messageId: `s-${i}` });
      const singleMs = performance.now() - started;
      const drained = client.createReceiver(QUEUE, { receiveMode: 'receiveAndDelete' });
      for (let left = SINGLE_MESSAGES; left > 0;) left -= (await drained.receiveMessages(Math.min(left, 2_000), { maxWaitTimeInMs: 2_000 })).length;
      await drained.close();

      started = performance.now();
      const { batches } = await sendBatched(sender, BATCHED_MESSAGES);
      const batchedMs = performance.now() - started;
      const stored = broker.stats(QUEUE).active;
      if (stored !== BATCHED_MESSAGES) throw new Error(`expected ${BATCHED_MESSAGES} stored messages, found ${stored}`);

      started = performance.now();
      await receiveAndComplete(client, BATCHED_MESSAGES);
      const receiveMs = performance.now() - started;
      const left = broker.stats(QUEUE);
      if (left.active !== 0) throw new Error(`${left.active} messages left after receive + complete`);

      const singleRate = SINGLE_MESSAGES / singleMs;
      const batchedRate = BATCHED_MESSAGES / batchedMs;
      const receiveRate = BATCHED_MESSAGES / receiveMs;
      console.log(
        `single send (baseline), ${SINGLE_MESSAGES} messages awaited one by one: ${rate(SINGLE_MESSAGES, singleMs)} (${(singleMs / 1000).toFixed(2)} s)`,
      );
      console.log(
        `batched send, ${BATCHED_MESSAGES} messages in ${batches} full batches:  ${rate(BATCHED_MESSAGES, batchedMs)} (${(batchedMs / 1000).toFixed(2)} s)`,
      );
      console.log(
        `receive + complete, subscribe maxConcurrentCalls=${MAX_CONCURRENT_CALLS}:    ${rate(BATCHED_MESSAGES, receiveMs)} (${(receiveMs / 1000).toFixed(2)} s)`,
      );
      console.log(`ratio batched send / single send:        ${(batchedRate / singleRate).toFixed(1)}x`);
      console.log(`ratio receive + complete / single send:  ${(receiveRate / singleRate).toFixed(1)}x`);
      console.log(`ratio batched send / receive + complete: ${(batchedRate / receiveRate).toFixed(1)}x`);
    } finally {
      await client.close();
      await broker.stop();
    }
  },
};

export default brokerBench;
