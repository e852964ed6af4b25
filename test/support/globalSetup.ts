import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteHandle } from '../../dev/azurite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Table Storage connection string of the Azurite instance shared by the whole test run. */
    azuriteTablesConnection: string;
    /** Table and Blob endpoints of the same Azurite (segment exports). */
    azuriteConnection: string;
  }
}

let azurite: AzuriteHandle | undefined;

/** One Azurite for the run (about 1 s to start, 100 MiB); tests isolate themselves by table name. */
export async function setup(project: TestProject): Promise<void> {
  azurite = await startAzurite({ silent: true, blob: true });
  project.provide('azuriteTablesConnection', azurite.tablesConnectionString);
  project.provide('azuriteConnection', azurite.connectionString ?? azurite.tablesConnectionString);
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
}
