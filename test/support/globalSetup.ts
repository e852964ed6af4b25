import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteHandle } from '../../dev/azurite.js';
import { findLeaks } from './logScan.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Table Storage connection string of the Azurite instance shared by the whole test run. */
    azuriteTablesConnection: string;
    /** Table and Blob endpoints of the same Azurite (segment exports). */
    azuriteConnection: string;
    /** Folder where each test worker appends what its tests logged (logCapture.ts), scanned at teardown. */
    logScanDir: string;
  }
}

let azurite: AzuriteHandle | undefined;
let logScanDir: string | undefined;

/** One Azurite for the run (about 1 s to start, 100 MiB); tests isolate themselves by table name. */
export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite({ silent: true, blob: true });
  project.provide('azuriteTablesConnection', azurite.tablesConnectionString);
  project.provide('azuriteConnection', azurite.connectionString ?? azurite.tablesConnectionString);
  logScanDir = mkdtempSync(join(tmpdir(), 'test-logs-'));
  project.provide('logScanDir', logScanDir);
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
  if (logScanDir === undefined) return;
  const lines = readdirSync(logScanDir).flatMap((file) => readFileSync(join(logScanDir ?? '', file), 'utf8').split('\n'));
  rmSync(logScanDir, { recursive: true, force: true });
  const leaks = findLeaks(lines);
  console.info(`log scan: ${lines.length} logged lines, ${leaks.length} leaks`);
  if (leaks.length === 0) return;
  for (const leak of leaks.slice(0, 50)) console.error(`log scan: ${leak.kind} ${leak.masked} in: ${leak.line}`);
  process.exitCode = 1;
  throw new Error(`log scan: ${leaks.length} phone numbers, names, tokens or connection strings in the test run's logs`);
}
