import { afterEach, describe, expect, inject, it } from 'vitest';
import { Registry } from '../../src/app/registry.js';
import { composeSegmentExportsAtStart } from '../../src/segmentExports/composeSegmentExports.js';
import { loadSettings } from '../../src/settings/settings.js';
import { openAllDayEngagementFile } from '../support/appEnvironment.js';
import { mobileEngagementEntry } from '../support/engagements.js';

/** The start-up check of the segment-export capability: a missing storage account fails start, not the first blob. */
const exportsEngagement = mobileEngagementEntry('ci-exports', 'q-all-day', {
  name: 'Exports',
  customerInsights: { exports: { container: 'customer-insights', prefix: 'CustomerInsights_1/list/' } },
});

let registry: Registry | undefined;
afterEach(async () => {
  await registry?.dispose();
  registry = undefined;
});

function registryFor(engagementsFile: string, extra: Record<string, string> = {}): Registry {
  registry = new Registry(() =>
    loadSettings({
      ENGAGEMENTS_FILE: engagementsFile,
      // Never connected to: composing does not open the namespace.
      ServiceBusConnection: 'Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true',
      AzureWebJobsStorage: inject('azuriteTablesConnection'),
      TABLE_PREFIX: `t${Math.random().toString(36).slice(2, 10)}`,
      ...extra,
    }),
  );
  return registry;
}

describe('segment exports at app start', () => {
  it('an engagement declaring customerInsights.exports without SegmentExportsStorage fails start naming the setting and the engagement', async () => {
    const start = registryFor(openAllDayEngagementFile([exportsEngagement])).use(composeSegmentExportsAtStart);
    await expect(start).rejects.toThrow(/SegmentExportsStorage: set SegmentExportsStorage .*declared by engagement ci-exports/);
  });

  it('no engagement declaring exports: nothing is needed and nothing is composed', async () => {
    await expect(registryFor(openAllDayEngagementFile()).use(composeSegmentExportsAtStart)).resolves.toBeUndefined();
  });

  it('with SegmentExportsStorage set, start composes the capability on the configured container', async () => {
    const composed = await registryFor(openAllDayEngagementFile([exportsEngagement]), {
      SegmentExportsStorage: inject('azuriteConnection'),
      SEGMENT_EXPORTS_CONTAINER: 'customer-insights',
    }).use(composeSegmentExportsAtStart);
    expect(composed?.container).toBe('customer-insights');
  });
});
