import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePort } from './freePort.js';

/** The well-known Azurite development account key: public by design, never a secret. */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  readonly port: number;
  readonly tablesConnectionString: string;
  /** With `blob: true`: the Blob service's port, and a connection string naming both services. */
  readonly blobPort?: number;
  readonly connectionString?: string;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** A fixed port (the local host uses 10002); default: a free one, so parallel runs do not collide. */
  port?: number;
  /** Keep Azurite's access log off (tests). */
  silent?: boolean;
  /**
   * Keep the tables in this folder instead of in memory, so a stopped Azurite started again on the
   * same port and folder has its rows back (outage tests).
   */
  location?: string;
  /** Milliseconds to wait for "successfully started". */
  startTimeoutMs?: number;
  /** Start the Blob service too (segment exports); on `blobPort`, else a free port. */
  blob?: boolean;
  blobPort?: number;
}

export function azuriteTablesConnectionString(port: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
    `TableEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME};`
  );
}

/** Table and Blob endpoints in one connection string: what a storage account's connection string gives. */
export function azuriteConnectionString(tablePort: number, blobPort: number): string {
  return `${azuriteTablesConnectionString(tablePort)}BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT_NAME};`;
}

/**
 * Starts Azurite's Table service (and with `blob`, its Blob service) in memory as child processes on loopback. Azurite has no supported
 * in-process API, so it runs as a child and is stopped with SIGTERM.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteHandle> {
  const table = await startService('table', options.port, options);
  if (options.blob !== true) return table;
  let blob: AzuriteHandle;
  try {
    blob = await startService('blob', options.blobPort, options);
  } catch (error) {
    await table.stop();
    throw error;
  }
  return {
    ...table,
    blobPort: blob.port,
    connectionString: azuriteConnectionString(table.port, blob.port),
    stop: async () => {
      await Promise.all([table.stop(), blob.stop()]);
    },
  };
}

async function startService(service: 'table' | 'blob', fixedPort: number | undefined, options: AzuriteOptions): Promise<AzuriteHandle> {
  const attempts = fixedPort === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = fixedPort ?? (await freePort());
    try {
      return await launch(service, port, options);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function launch(service: 'table' | 'blob', port: number, options: AzuriteOptions): Promise<AzuriteHandle> {
  const require = createRequire(import.meta.url);
  const main = require.resolve(`azurite/dist/src/${service}/main.js`);
  const storage = options.location === undefined ? ['--inMemoryPersistence'] : ['--location', options.location];
  const args = [main, ...storage, '--skipApiVersionCheck', '--disableTelemetry', `--${service}Host`, '127.0.0.1', `--${service}Port`, String(port)];
  if (options.silent !== false) args.push('--silent');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<AzuriteHandle>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start on port ${port} within ${options.startTimeoutMs ?? 20_000} ms: ${output}`));
    }, options.startTimeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/successfully (started|listens)/.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ port, tablesConnectionString: azuriteTablesConnectionString(port), stop: () => stopChild(child) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code} before it started on port ${port}: ${output}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
