import { ServiceBusClient } from '@azure/service-bus';
import type { BrokerClock } from '../../dev/serviceBus/brokerClock.js';
import { startServiceBusBroker, type ServiceBusBrokerHandle } from '../../dev/serviceBus/broker.js';
import { configWith } from '../../dev/serviceBus/config.js';

export interface QueueSpec {
  readonly name: string;
  readonly duplicateDetection?: boolean;
  readonly lockDuration?: string;
  readonly maxDeliveryCount?: number;
}

/**
 * A local broker on a free port with the given queues (emulator config format), plus a client for
 * assertions. Pass a manual `clock` to run locks, time to live and schedules out without waiting.
 */
export async function startBroker(
  queues: readonly QueueSpec[],
  options: { clock?: BrokerClock } = {},
): Promise<{ broker: ServiceBusBrokerHandle; client: ServiceBusClient; stop(): Promise<void> }> {
  const broker = await startServiceBusBroker({
    ...options,
    port: 0,
    config: configWith(
      queues.map((q) => ({
        Name: q.name,
        Properties: {
          LockDuration: q.lockDuration ?? 'PT30S',
          MaxDeliveryCount: q.maxDeliveryCount ?? 10,
          RequiresDuplicateDetection: q.duplicateDetection ?? false,
          DuplicateDetectionHistoryTimeWindow: 'PT1H',
          DefaultMessageTimeToLive: 'P1D',
          DeadLetteringOnMessageExpiration: true,
          RequiresSession: false,
        },
      })),
    ),
  });
  const client = new ServiceBusClient(broker.connectionString, { retryOptions: { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 10_000 } });
  return {
    broker,
    client,
    async stop() {
      await client.close();
      await broker.stop();
    },
  };
}
