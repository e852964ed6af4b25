import { randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import rhea, { type EventContext } from 'rhea';
import { describeError } from './amqpConditionError.js';
import { systemClock, type BrokerClock } from './brokerClock.js';
import { BrokerConnection } from './brokerConnection.js';
import { resolveBrokerConfig, type BrokerConfig } from './config.js';
import { emulatorConnectionString } from './connectionString.js';
import { EntityRegistry, type EntityStats } from './entityRegistry.js';
import { abortConnection } from './rheaInternals.js';

/** Standard tier's limit, which is what the SDK sizes batches by. */
export const DEFAULT_MAX_MESSAGE_SIZE_BYTES = 256 * 1024;
const DEFAULT_HOST = '127.0.0.1';
/**
 * rhea keeps every unsettled outgoing delivery of a session in a ring of this size and refuses to send
 * once it is full; the SDK's own receive buffer is 2048, so the broker's side is never the limit.
 */
const SESSION_BUFFER_SIZE = 16_384;
/** Transfers a client may send before rhea tops up its credit (it refills at a quarter used). */
const INCOMING_CREDIT_WINDOW = 1_000;
/** How long stop() waits for clients to answer the close before cutting their sockets. */
const CLOSE_GRACE_MS = 250;

export interface ServiceBusBrokerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port; the emulator uses 5672. */
  port?: number;
  /** The emulator's config object, or the path of its JSON file. */
  config: BrokerConfig | string;
  /** Receives one line per notable event; never message contents. */
  log?: (line: string) => void;
  /** Largest message or batch accepted, advertised to senders; default 256 KiB. */
  maxMessageSizeBytes?: number;
  /**
   * The time messages and locks live by; default the system clock. Tests pass a manual clock to expire
   * locks, time to live and scheduled times without waiting for them.
   */
  clock?: BrokerClock;
}

export interface ServiceBusBrokerHandle {
  readonly host: string;
  readonly port: number;
  /** Emulator-style connection string for `@azure/service-bus` pointing at this broker. */
  readonly connectionString: string;
  /** Names of the configured queues. */
  readonly queues: readonly string[];
  /** Message counts of a queue and its dead-letter queue. */
  stats(queue: string): EntityStats;
  /** Number of open client connections. */
  readonly connectionCount: number;
  /**
   * An outage that keeps the messages: closes every client connection and the listener, so clients
   * are refused until {@link resume}, while queues and their messages stay as they are.
   */
  suspend(): Promise<void>;
  /** Listens again on the same port after {@link suspend}. */
  resume(): Promise<void>;
  /** Closes every client connection, the listener and all timers. */
  stop(): Promise<void>;
}

/**
 * Starts an in-memory AMQP 1.0 broker that the real `@azure/service-bus` client can use in place of
 * Azure Service Bus or its emulator (see docs/servicebus-broker.md for what it covers).
 */
export async function startServiceBusBroker(options: ServiceBusBrokerOptions): Promise<ServiceBusBrokerHandle> {
  const settings = await resolveBrokerConfig(options.config);
  const log = options.log ?? (() => undefined);
  const host = options.host ?? DEFAULT_HOST;
  const maxMessageSizeBytes = options.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE_BYTES;
  const registry = new EntityRegistry(settings, log, options.clock ?? systemClock);
  const context = { registry, maxMessageSizeBytes, log };

  const container = rhea.create_container({ id: `local-servicebus-${randomUUID()}` });
  const connections = new Set<BrokerConnection>();
  const sockets = new Set<Socket>();
  let connectionCounter = 0;

  container.on('connection_open', (event: EventContext) => {
    const connection = new BrokerConnection(event.connection, `conn-${++connectionCounter}`, context);
    connections.add(connection);
    void connection.whenEnded.then(() => connections.delete(connection));
    connection.start();
  });
  // Errors of connections not yet open (e.g. a client that gave up during SASL) land on the container.
  container.on('disconnected', () => undefined);
  container.on('error', (error: unknown) => log(`broker: ${describeError(error)}`));

  const senderOptions = { autosettle: true, treat_modified_as_released: false };
  const listen = (port: number) => {
    const listener = container.listen({
      host,
      port,
      session_buffer_size: SESSION_BUFFER_SIZE,
      // abandon (modified) and defer (modified, undeliverable) must stay apart from release.
      sender_options: senderOptions,
      receiver_options: { autoaccept: false, credit_window: INCOMING_CREDIT_WINDOW },
    });
    listener.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return listener;
  };
  let server = listen(options.port ?? 0);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (error: NodeJS.ErrnoException) => {
      registry.close();
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `cannot start the Service Bus broker: ${host}:${options.port ?? 0} is already in use`
            : `cannot start the Service Bus broker on ${host}:${options.port ?? 0}: ${error.message}`,
        ),
      );
    });
  });
  server.on('error', (error: Error) => log(`broker: listener error: ${error.message}`));
  const port = (server.address() as AddressInfo).port;
  const connectionString = emulatorConnectionString(host, port);
  log(`broker: listening on ${host}:${port}, queues: ${registry.names.join(', ') || '(none)'}`);

  let stopping: Promise<void> | undefined;
  let suspended = false;
  const disconnect = async (reason: string): Promise<void> => {
    const serverClosed = suspended ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const connection of connections) connection.close(reason);
    const ended = Promise.all([...connections].map((connection) => connection.whenEnded));
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
    clearTimeout(graceTimer);
    // Clients that did not answer: rhea's abort path also clears the connection's heartbeat timers.
    for (const connection of connections) abortConnection(connection.connection);
    for (const socket of sockets) socket.destroy();
    await serverClosed;
  };
  const stop = async (): Promise<void> => {
    await disconnect('the local Service Bus broker is stopping');
    registry.close();
    log('broker: stopped');
  };
  const suspend = async (): Promise<void> => {
    if (suspended) return;
    await disconnect('the local Service Bus broker is suspended');
    suspended = true;
    log('broker: suspended');
  };
  const resume = async (): Promise<void> => {
    if (!suspended) return;
    server = listen(port);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    server.on('error', (error: Error) => log(`broker: listener error: ${error.message}`));
    suspended = false;
    log('broker: resumed');
  };

  return {
    host,
    port,
    connectionString,
    queues: registry.names,
    stats: (queue) => registry.stats(queue),
    get connectionCount() {
      return connections.size;
    },
    suspend,
    resume,
    stop: () => (stopping ??= stop()),
  };
}
