import type { InvocationContext, StorageBlobFunctionOptions } from '@azure/functions';
import { appRegistry } from '../app/registry.js';
import { composeSegmentExports } from './composeSegmentExports.js';
import { processExportFile } from './processExportFile.js';

/**
 * The blob name of the trigger: `blobTrigger` is `<container>/<name>` in the metadata the Functions
 * host passes (the local host passes the same).
 */
export function blobNameOf(context: InvocationContext, container: string): string {
  const path = context.triggerMetadata?.['blobTrigger'];
  if (typeof path === 'string' && path.startsWith(`${container}/`)) return path.slice(container.length + 1);
  const name = context.triggerMetadata?.['name'];
  if (typeof name === 'string' && name !== '') return name;
  throw new Error('the blob trigger passed no blob name (blobTrigger / name metadata)');
}

/**
 * A new segment export file in the watched container. The content the host hands over is not used:
 * the file is streamed from Blob Storage by version, so a large export is never held in memory and a
 * resumed run reads the same version. A failure throws, and the host's blob-trigger retries run it again.
 */
export const segmentExportBlobFunction: StorageBlobFunctionOptions = {
  path: '%SEGMENT_EXPORTS_CONTAINER%/{name}',
  connection: 'SegmentExportsStorage',
  source: 'EventGrid',
  handler: async (_blob: unknown, context: InvocationContext) => {
    const { deps, container } = await appRegistry.use(composeSegmentExports);
    const name = blobNameOf(context, container);
    if (name.endsWith('model.json')) return;
    const result = await processExportFile(deps, container, name);
    context.log(`segment export ${name}: ${result.status}`);
  },
};
