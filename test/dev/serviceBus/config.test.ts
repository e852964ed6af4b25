import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceBusBroker } from '../../../dev/serviceBus/broker.js';
import { BrokerConfigError, loadBrokerConfigFile, parseBrokerConfig, type BrokerConfig } from '../../../dev/serviceBus/config.js';
import { emulatorConnectionString } from '../../../dev/serviceBus/connectionString.js';
import { rejectionOf } from './brokerFixture.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function withQueue(queue: unknown, extra: Record<string, unknown> = {}): unknown {
  return { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [queue], Topics: [], ...extra }] } };
}

function configErrorOf(raw: unknown): string {
  try {
    parseBrokerConfig(raw, 'test');
  } catch (error) {
    if (error instanceof BrokerConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('the broker config (the official emulator format)', () => {
  it('loads the product default config/servicebus.json with its two queues and their settings', async () => {
    const settings = await loadBrokerConfigFile('config/servicebus.json');
    expect(settings.namespace).toBe('sbemulatorns');
    expect(settings.queues).toEqual([
      {
        name: 'contact-batches',
        lockDurationMs: 60_000,
        maxDeliveryCount: 10,
        requiresDuplicateDetection: true,
        duplicateDetectionWindowMs: DAY_MS,
        defaultMessageTtlMs: 14 * DAY_MS,
        deadLetteringOnMessageExpiration: true,
      },
      {
        name: 'call-events',
        lockDurationMs: 60_000,
        maxDeliveryCount: 10,
        requiresDuplicateDetection: false,
        duplicateDetectionWindowMs: DAY_MS,
        defaultMessageTtlMs: 14 * DAY_MS,
        deadLetteringOnMessageExpiration: true,
      },
    ]);
  });

  it('fills properties a queue leaves out with Service Bus defaults', () => {
    const [queue] = parseBrokerConfig(withQueue({ Name: 'bare' })).queues;
    expect(queue).toEqual({
      name: 'bare',
      lockDurationMs: 60_000,
      maxDeliveryCount: 10,
      requiresDuplicateDetection: false,
      duplicateDetectionWindowMs: 10 * 60_000,
      defaultMessageTtlMs: Number.POSITIVE_INFINITY,
      deadLetteringOnMessageExpiration: false,
    });
  });

  it('names the field path of an invalid ISO-8601 duration', () => {
    const message = configErrorOf(withQueue({ Name: 'q', Properties: { LockDuration: '60 seconds' } }));
    expect(message).toContain('UserConfig.Namespaces[0].Queues[0].Properties.LockDuration');
    expect(message).toContain('"60 seconds"');
  });

  it('names the field path of a wrongly typed or unknown property', () => {
    expect(configErrorOf(withQueue({ Name: 'q', Properties: { MaxDeliveryCount: '10' } }))).toContain(
      'UserConfig.Namespaces[0].Queues[0].Properties.MaxDeliveryCount',
    );
    expect(configErrorOf(withQueue({ Name: 'q', Properties: { LockDurationn: 'PT1M' } }))).toMatch(/Queues\[0\]\.Properties: .*LockDurationn/);
  });

  it('rejects RequiresSession true, saying sessions are not supported by the local broker', () => {
    const message = configErrorOf(withQueue({ Name: 'q', Properties: { RequiresSession: true } }));
    expect(message).toContain('Queues[0].Properties.RequiresSession');
    expect(message).toContain('sessions are not supported by the local Service Bus broker');
  });

  it('rejects topics and duplicate queue names', () => {
    expect(configErrorOf(withQueue({ Name: 'q' }, { Topics: [{ Name: 't' }] }))).toContain(
      'UserConfig.Namespaces[0].Topics: topics and subscriptions are not supported',
    );
    const duplicate = { UserConfig: { Namespaces: [{ Name: 'ns', Queues: [{ Name: 'Q' }, { Name: 'q' }] }] } };
    expect(configErrorOf(duplicate)).toContain('Queues[1].Name: duplicate queue name "q"');
  });

  describe('startServiceBusBroker with a config file', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sb-config-'));
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it('fails start-up with the file name and field path of a bad config', async () => {
      const path = join(dir, 'bad.json');
      await writeFile(path, JSON.stringify(withQueue({ Name: 'q', Properties: { LockDuration: 'PT-1M' } })));
      const error = await rejectionOf(startServiceBusBroker({ port: 0, config: path }));
      expect(error).toBeInstanceOf(BrokerConfigError);
      expect(error.message).toContain(path);
      expect(error.message).toContain('Queues[0].Properties.LockDuration');
    });

    it('fails start-up naming a config file that is not JSON or does not exist', async () => {
      const path = join(dir, 'broken.json');
      await writeFile(path, '{ "UserConfig": ');
      expect((await rejectionOf(startServiceBusBroker({ port: 0, config: path }))).message).toMatch(/broken\.json is not valid JSON/);
      expect((await rejectionOf(startServiceBusBroker({ port: 0, config: join(dir, 'missing.json') }))).message).toMatch(
        /cannot read Service Bus broker config .*missing\.json/,
      );
    });

    it('starts from a config object, reports its queues and builds the connection string from the actual port', async () => {
      const config: BrokerConfig = { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'only' }] }] } };
      const broker = await startServiceBusBroker({ port: 0, config });
      try {
        expect(broker.queues).toEqual(['only']);
        expect(broker.port).toBeGreaterThan(0);
        expect(broker.connectionString).toBe(
          `Endpoint=sb://127.0.0.1:${broker.port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
        );
      } finally {
        await broker.stop();
      }
    });
  });

  it('writes the emulator connection string without a port for 5672, as the emulator documents it', () => {
    expect(emulatorConnectionString('localhost', 5672)).toBe(
      'Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
    );
  });
});
