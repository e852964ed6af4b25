/**
 * `npm run servicebus`: the local Service Bus broker as a standalone process on 127.0.0.1.
 * SERVICEBUS_PORT (default 5672) and SERVICEBUS_CONFIG (default config/servicebus.json) configure it.
 */
import { startServiceBusBroker } from './broker.js';
import { describeError } from './amqpConditionError.js';
import { EMULATOR_PORT } from './connectionString.js';

const DEFAULT_CONFIG = 'config/servicebus.json';

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return EMULATOR_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`SERVICEBUS_PORT must be a port number (0-65535), got ${JSON.stringify(value)}`);
  }
  return port;
}

async function main(): Promise<void> {
  const port = portFromEnv(process.env['SERVICEBUS_PORT']);
  const config = process.env['SERVICEBUS_CONFIG'] || DEFAULT_CONFIG;
  const log = (line: string): void => console.log(`[servicebus] ${line}`);
  const broker = await startServiceBusBroker({ host: '127.0.0.1', port, config, log });
  console.log(`[servicebus] config: ${config}`);
  console.log(`[servicebus] ServiceBusConnection=${broker.connectionString}`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, stopping`);
    broker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`[servicebus] stop failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`[servicebus] ${describeError(error)}`);
  process.exit(1);
});
