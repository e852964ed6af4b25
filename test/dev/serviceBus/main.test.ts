import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchOutput, type ChildOutput } from '../../support/childOutput.js';
import { receiveUpTo } from './brokerFixture.js';

const TSX = join('node_modules', '.bin', 'tsx');
const MAIN = join('dev', 'serviceBus', 'main.ts');

interface Run {
  readonly child: ChildProcess;
  output(): string;
  waitForOutput: ChildOutput['waitFor'];
  /** The exit code, once the output was read to the end. */
  exit: Promise<number | null>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(TSX, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = watchOutput(child);
  const exit = new Promise<number | null>((resolve) => child.once('close', (code: number | null) => resolve(code)));
  return { child, output: output.text, waitForOutput: output.waitFor, exit };
}

describe('npm run servicebus (dev/serviceBus/main.ts)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-main-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('serves the default config, prints the connection string and stops cleanly on SIGTERM', async () => {
    const r = run({ SERVICEBUS_PORT: '0', SERVICEBUS_CONFIG: '' });
    try {
      const [, connectionString] = await r.waitForOutput(/ServiceBusConnection=(Endpoint=sb:\/\/127\.0\.0\.1:\d+;[^\s]+)/, 20_000);
      if (connectionString === undefined) throw new Error('no connection string');
      expect(r.output()).toContain('queues: contact-batches, call-events');
      const client = new ServiceBusClient(connectionString);
      try {
        await client.createSender('contact-batches').sendMessages({ body: 'cli', messageId: 'cli-1' });
        const [message] = await receiveUpTo(client.createReceiver('contact-batches', { receiveMode: 'receiveAndDelete' }), 1);
        expect(message?.body).toBe('cli');
      } finally {
        await client.close();
      }
      r.child.kill('SIGTERM');
      expect(await r.exit).toBe(0);
      expect(r.output()).toContain('broker: stopped');
    } finally {
      r.child.kill('SIGKILL');
    }
  });

  it('exits with status 1 and the field path when the config is invalid', async () => {
    const path = join(dir, 'invalid.json');
    await writeFile(
      path,
      JSON.stringify({ UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'q', Properties: { MaxDeliveryCount: 0 } }] }] } }),
    );
    const r = run({ SERVICEBUS_PORT: '0', SERVICEBUS_CONFIG: path });
    expect(await r.exit).toBe(1);
    expect(r.output()).toContain(`invalid Service Bus broker config (${path})`);
    expect(r.output()).toContain('UserConfig.Namespaces[0].Queues[0].Properties.MaxDeliveryCount');
  });
});
