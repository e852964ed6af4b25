import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import { UserError } from '../errors.js';
import { composeIntake } from '../intake/composeIntake.js';
import { ExportBlobSource } from '../store/segmentExports/exportBlobSource.js';
import { ExportProgressStore } from '../store/segmentExports/exportProgressStore.js';
import type { ExportFileDeps } from './processExportFile.js';

/** The segment-export capability: what the blob trigger needs, and the container it watches. */
export interface SegmentExports {
  readonly deps: ExportFileDeps;
  readonly container: string;
}

export async function composeSegmentExports(context: CompositionContext): Promise<Composed<SegmentExports>> {
  const { settings, catalog, tables, clock, log } = await context.use(composeFoundation);
  const { intake } = await context.use(composeIntake);
  const connection =
    settings.SegmentExportsStorage !== undefined
      ? { connectionString: settings.SegmentExportsStorage }
      : settings.SegmentExportsStorage__blobServiceUri !== undefined
        ? { blobServiceUri: settings.SegmentExportsStorage__blobServiceUri }
        : undefined;
  if (connection === undefined) {
    throw new UserError(
      'InvalidSettings',
      'invalid app settings:\n  - SegmentExportsStorage: set SegmentExportsStorage (connection string) or SegmentExportsStorage__blobServiceUri to take segment exports',
    );
  }
  return {
    value: {
      container: settings.SEGMENT_EXPORTS_CONTAINER,
      deps: {
        catalog,
        intake,
        blobs: new ExportBlobSource(connection),
        progress: new ExportProgressStore(tables),
        pageSize: settings.SEGMENT_EXPORT_PAGE_SIZE,
        clock,
        log,
      },
    },
  };
}
