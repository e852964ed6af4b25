/**
 * `npm start`: the product on its embedded defaults, the way `func start` would run it, with no cloud
 * resources: Azurite (Table Storage) and the local Service Bus broker on loopback, the sample
 * engagements, and every function served on http://localhost:7071.
 *
 * Settings come from the environment, then `local.settings.json` (Values) if present, then the
 * embedded defaults below. Pointing `ServiceBusConnection` or `AzureWebJobsStorage` at real resources
 * skips the embedded broker or Azurite.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite, type AzuriteHandle } from './azurite.js';
import { projectRootFrom, startFunctionHost, type FunctionKeys } from './functionHost.js';
import { startServiceBusBroker, type ServiceBusBrokerHandle } from './serviceBus/broker.js';
import { startLocalDataverse } from './dataverse/startLocalDataverse.js';
import type { DataverseStandIn } from './dataverse/dataverseStandIn.js';
import { startCopilotStudioForEngagements } from './copilotStudio/startForEngagements.js';
import type { CopilotStudioStandInHandle } from './copilotStudio/standIn.js';

const root = projectRootFrom(import.meta.url);

function localSettings(): Record<string, string> {
  const file = join(root, 'local.settings.json');
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
  return parsed.Values ?? {};
}

const EMBEDDED_DEFAULTS: Record<string, string> = {
  ENGAGEMENTS_FILE: join(root, 'config', 'engagements.sample.json'),
  CONTACT_BATCHES_QUEUE: 'contact-batches',
  DIALER_BACKEND: 'simulator',
  PACING_SCHEDULE: '*/5 * * * * *',
  SEGMENT_EXPORTS_CONTAINER: 'customer-insights',
  JOURNEY_OUTBOX_SCHEDULE: '*/10 * * * * *',
  FUNCTIONS_WORKER_RUNTIME: 'node',
};

function portSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name} must be a port number (got ${JSON.stringify(raw)})`);
  return port;
}

interface Started {
  azurite?: AzuriteHandle;
  broker?: ServiceBusBrokerHandle;
  dataverse?: DataverseStandIn;
  copilotStudio?: CopilotStudioStandInHandle;
}

/** Starts Azurite and the broker unless the settings point at real resources; records what it started. */
async function startDependencies(started: Started): Promise<void> {
  const storage = process.env['AzureWebJobsStorage'];
  if (storage === undefined || storage === '' || storage === 'UseDevelopmentStorage=true') {
    started.azurite = await startAzurite({ port: portSetting('AZURITE_TABLE_PORT', 10_002), blob: true, blobPort: portSetting('AZURITE_BLOB_PORT', 10_000) });
    process.env['AzureWebJobsStorage'] = started.azurite.tablesConnectionString;
    console.log(`Azurite Table service on 127.0.0.1:${started.azurite.port}, Blob service on 127.0.0.1:${started.azurite.blobPort} (in memory)`);
    // Segment exports land in Azurite's Blob service unless SegmentExportsStorage names a real account.
    const exports = process.env['SegmentExportsStorage'];
    if (exports === undefined || exports === '' || exports === 'UseDevelopmentStorage=true') {
      process.env['SegmentExportsStorage'] = started.azurite.connectionString;
    }
  }
  const serviceBus = process.env['ServiceBusConnection'];
  const localEmulator =
    serviceBus === undefined || serviceBus === ''
      ? undefined
      : /UseDevelopmentEmulator=true/i.test(serviceBus) && /Endpoint=sb:\/\/(localhost|127\.0\.0\.1)(:(\d+))?/i.exec(serviceBus);
  if (serviceBus === undefined || serviceBus === '' || localEmulator) {
    // No connection, or the emulator's own local connection string: the embedded broker plays the emulator.
    const emulatorPort = localEmulator ? localEmulator[3] : undefined;
    started.broker = await startServiceBusBroker({
      port: emulatorPort === undefined ? portSetting('SERVICEBUS_PORT', 5672) : Number(emulatorPort),
      config: process.env['SERVICEBUS_CONFIG'] ?? join(root, 'config', 'servicebus.json'),
      log: (line) => console.log(`[servicebus] ${line}`),
    });
    process.env['ServiceBusConnection'] = started.broker.connectionString;
    console.log(`Service Bus broker on 127.0.0.1:${started.broker.port}, queues: ${started.broker.queues.join(', ')}`);
  }
  // No DATAVERSE_URL while something calls Dataverse (DIALER_BACKEND=dynamics365, or an engagement's journey
  // custom trigger for outcomes): the local Dataverse stand-in (dev/dataverse).
  const callsDataverse = process.env['DIALER_BACKEND'] === 'dynamics365' || firesJourneyTriggers(process.env['ENGAGEMENTS_FILE'] ?? '');
  if (callsDataverse && (process.env['DATAVERSE_URL'] ?? '') === '') {
    started.dataverse = await startLocalDataverse(portSetting('DATAVERSE_PORT', 7072));
  }
}

/** Whether any engagement of the file has `customerInsights.journeyTrigger` (read as plain JSON, like the stand-ins do). */
function firesJourneyTriggers(path: string): boolean {
  if (path === '' || !existsSync(path)) return false;
  const file = JSON.parse(readFileSync(path, 'utf8')) as { engagements?: Array<{ customerInsights?: { journeyTrigger?: unknown } }> };
  return (file.engagements ?? []).some((e) => e.customerInsights?.journeyTrigger !== undefined);
}

/** The Copilot Studio stand-in, for engagements on the copilot-studio engine that name no real agent. */
async function startCopilotStudio(started: Started): Promise<void> {
  const scripts = process.env['COPILOT_STUDIO_SCRIPTS'] ?? join(root, 'config', 'copilot-studio.sample.json');
  const standIn = await startCopilotStudioForEngagements(process.env['ENGAGEMENTS_FILE'] ?? '', scripts, (line) => console.log(`[copilot-studio] ${line}`));
  if (standIn !== undefined) started.copilotStudio = standIn;
}

async function stopDependencies(started: Started): Promise<void> {
  await started.dataverse?.stop().catch(() => undefined);
  await started.copilotStudio?.stop().catch(() => undefined);
  await started.broker?.stop().catch(() => undefined);
  await started.azurite?.stop().catch(() => undefined);
}

/**
 * FUNCTIONS_ENFORCE_KEYS=true: routes need keys as in Azure. Keys come from FUNCTIONS_MASTER_KEY and
 * FUNCTIONS_DEFAULT_KEY, or are generated for this run and printed once, since the caller needs them.
 */
function functionKeys(): FunctionKeys | undefined {
  if (process.env['FUNCTIONS_ENFORCE_KEYS'] !== 'true') return undefined;
  const given = (name: string): string | undefined => {
    const value = process.env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const master = given('FUNCTIONS_MASTER_KEY');
  const fn = given('FUNCTIONS_DEFAULT_KEY');
  const keys = { master: master ?? randomBytes(32).toString('base64url'), function: fn ?? randomBytes(32).toString('base64url') };
  console.log('Function keys enforced (x-functions-key header or ?code=):');
  console.log(`  master key: ${master === undefined ? `${keys.master} (generated for this run)` : 'from FUNCTIONS_MASTER_KEY'}`);
  console.log(`  function key: ${fn === undefined ? `${keys.function} (generated for this run)` : 'from FUNCTIONS_DEFAULT_KEY'}`);
  return keys;
}

async function main(): Promise<void> {
  for (const [key, value] of Object.entries({ ...EMBEDDED_DEFAULTS, ...localSettings() })) {
    if (process.env[key] === undefined || process.env[key] === '') process.env[key] = value;
  }
  const started: Started = {};
  let host: Awaited<ReturnType<typeof startFunctionHost>>;
  try {
    await startDependencies(started);
    await startCopilotStudio(started);
    host = await startFunctionHost({ projectRoot: root, port: portSetting('FUNCTIONS_HTTP_PORT', 7071), keys: functionKeys() });
  } catch (error) {
    // Azurite is a child process: stop it, or it outlives a failed start.
    await stopDependencies(started);
    throw error;
  }
  console.log(`\nFunctions (${host.functions.length}):`);
  for (const f of host.functions) {
    const [methods, path] = f.detail.split(' ');
    console.log(`  ${f.name}: [${f.trigger}] ${f.trigger === 'http' ? `${methods} ${host.url}${path}` : f.detail}`);
  }
  console.log(`\nReady. Engagements from ${process.env['ENGAGEMENTS_FILE']}. Ctrl+C to stop.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    await host.stop();
    await stopDependencies(started);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
