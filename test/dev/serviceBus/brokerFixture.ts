import { ServiceBusClient, type ServiceBusReceivedMessage, type ServiceBusReceiver } from '@azure/service-bus';
import { configWith, type QueueDeclaration } from '../../../dev/serviceBus/config.js';
import { startServiceBusBroker, type ServiceBusBrokerHandle, type ServiceBusBrokerOptions } from '../../../dev/serviceBus/broker.js';

const CLIENT_CLOSE_WAIT_MS = 2_000;

export type TestQueue = QueueDeclaration;
export { configWith };

export interface TestBroker {
  readonly broker: ServiceBusBrokerHandle;
  /** A client for the test to use; closed by stop(). */
  readonly client: ServiceBusClient;
  /** Another client, for tests that need separate connections. */
  newClient(): ServiceBusClient;
  stop(): Promise<void>;
}

/** Starts a broker on a free port with the given queues, and a client connected to it. */
export async function startTestBroker(queues: TestQueue[], options: Omit<ServiceBusBrokerOptions, 'config'> = {}): Promise<TestBroker> {
  const broker = await startServiceBusBroker({ port: 0, config: configWith(queues), ...options });
  const clients: ServiceBusClient[] = [];
  const newClient = (): ServiceBusClient => {
    // Short retries: a test that hits an error should fail fast, not after the SDK's default minute.
    const client = new ServiceBusClient(broker.connectionString, {
      retryOptions: { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 10_000 },
    });
    clients.push(client);
    return client;
  };
  const client = newClient();
  return {
    broker,
    client,
    newClient,
    async stop() {
      // Bounded: the SDK's close() never settles for a client whose socket was cut (see disconnect.test.ts).
      await Promise.all(clients.map((c) => Promise.race([c.close(), sleep(CLIENT_CLOSE_WAIT_MS)])));
      await broker.stop();
    },
  };
}

/** Only bounds waits the SDK may never end (see stop()); tests move a broker clock or await events instead. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Receives until `count` messages arrived or `timeoutMs` passed. */
export async function receiveUpTo(receiver: ServiceBusReceiver, count: number, timeoutMs = 5_000): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    const batch = await receiver.receiveMessages(count - received.length, {
      maxWaitTimeInMs: Math.min(500, Math.max(50, deadline - Date.now())),
    });
    received.push(...batch);
  }
  return received;
}

/** Reads a property through a chain of private fields, checking each step (for reaching SDK internals in tests). */
export function internalField(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !(key in current)) {
      throw new Error(`internal field ${path.join('.')} not found at ${key}; did the SDK change?`);
    }
    current = Reflect.get(current, key);
  }
  return current;
}
