import { composeFoundation } from '../app/composeFoundation.js';
import type { Composed, CompositionContext } from '../app/registry.js';
import type { EngagementCatalog } from '../engagement/loadEngagementFile.js';
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
    const declaring = engagementsTakingExports(catalog);
    throw new UserError(
      'InvalidSettings',
      'invalid app settings:\n  - SegmentExportsStorage: set SegmentExportsStorage (connection string) or SegmentExportsStorage__blobServiceUri to take segment exports' +
        (declaring.length === 0 ? '' : ` (customerInsights.exports is declared by engagement ${declaring.join(', ')})`),
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

/**
 * The start-up check (run by the app's start hook with the other compositions): when any engagement
 * declares `customerInsights.exports`, the segment-export capability is composed at start, so a missing
 * SegmentExportsStorage fails start-up naming the setting instead of the first export file. Without
 * such an engagement nothing is needed and nothing is composed.
 */
export async function composeSegmentExportsAtStart(context: CompositionContext): Promise<Composed<SegmentExports | undefined>> {
  const { catalog } = await context.use(composeFoundation);
  if (engagementsTakingExports(catalog).length === 0) return { value: undefined };
  return { value: await context.use(composeSegmentExports) };
}

function engagementsTakingExports(catalog: EngagementCatalog): string[] {
  return [...catalog.engagements.values()].filter((e) => e.customerInsights?.exports !== undefined).map((e) => e.id);
}
