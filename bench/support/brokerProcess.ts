/**
 * The local Service Bus broker as a child process (`dev/serviceBus/main.ts`) on a free port, so a
 * bench's own process holds only the app: in production the broker is a remote service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BrokerConfig } from '../../dev/serviceBus/config.js';

/** The contact-batches queue's properties as the app's queue has them (duplicate detection on), for the benches' brokers. */
export const benchQueueProperties = {
  RequiresDuplicateDetection: true,
  DuplicateDetectionHistoryTimeWindow: 'PT1H',
  LockDuration: 'PT1M',
  MaxDeliveryCount: 10,
  DefaultMessageTimeToLive: 'P1D',
  DeadLetteringOnMessageExpiration: false,
  RequiresSession: false,
};

export interface BrokerProcess {
  readonly connectionString: string;
  stop(): Promise<void>;
}

export function startBrokerProcess(config: BrokerConfig): Promise<BrokerProcess> {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-broker-')), 'servicebus.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/serviceBus/main.ts'], {
    env: { ...process.env, SERVICEBUS_PORT: '0', SERVICEBUS_CONFIG: file },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`broker exited with ${code} before it listened`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const at = line.indexOf('ServiceBusConnection=');
      if (at >= 0) resolve({ connectionString: line.slice(at + 'ServiceBusConnection='.length), stop: () => stopChild(child) });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
