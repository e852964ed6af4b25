import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import { InvocationContext } from '@azure/functions';
import { afterAll, inject } from 'vitest';

/**
 * Setup file: keeps everything a test file logs, through console and through every InvocationContext's
 * log methods (also those whose handler a test discards), and appends it to the run's log folder when
 * the file ends. The global teardown scans the folder (logScan.ts).
 */
const captured: string[] = [];

for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    captured.push(format(...args));
    original(...args);
  };
}

type ContextLog = (this: InvocationContext, ...args: unknown[]) => void;
const proto = InvocationContext.prototype as unknown as Record<string, ContextLog>;
for (const level of ['log', 'trace', 'debug', 'info', 'warn', 'error']) {
  const original = proto[level];
  if (typeof original !== 'function') continue;
  proto[level] = function (this: InvocationContext, ...args: unknown[]) {
    captured.push(format(...args));
    original.apply(this, args);
  };
}

afterAll(() => {
  if (captured.length === 0) return;
  appendFileSync(join(inject('logScanDir'), `${process.pid}.log`), `${captured.map((l) => l.replaceAll('\n', '\n ')).join('\n')}\n`);
  captured.length = 0;
});
