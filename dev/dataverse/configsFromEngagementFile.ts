import { readFileSync } from 'node:fs';
import type { StandInEngagementConfig } from './dataverseStandIn.js';

const DIAL_MODES: Readonly<Record<string, string>> = { copilot: 'Copilot', progressive: 'Progressive', preview: 'Preview', predictive: 'Predictive' };

/**
 * The stand-in's msdyn_proactive_engagement_config records, one per engagement of the file that has a
 * `dynamicsConfigId`, matching it (dial mode, primary queue, max calls per representative), as an
 * administrator would have set them up. Read as plain JSON: the stand-in does not load the product.
 */
export function configsFromEngagementFile(path: string): StandInEngagementConfig[] {
  const file = JSON.parse(readFileSync(path, 'utf8')) as {
    engagements?: Array<{
      id?: string;
      name?: string;
      dynamicsConfigId?: string;
      routing?: { primaryQueue?: string };
      dialMode?: { mode?: string; maxCallsPerRepresentative?: number };
    }>;
  };
  return (file.engagements ?? []).flatMap((e) =>
    e.dynamicsConfigId === undefined || e.id === undefined
      ? []
      : [
          {
            msdyn_proactive_engagement_configid: e.dynamicsConfigId,
            msdyn_name: e.name ?? e.id,
            msdyn_dial_mode: DIAL_MODES[e.dialMode?.mode ?? ''] ?? 'Progressive',
            msdyn_primary_queue: e.routing?.primaryQueue ?? '',
            msdyn_max_calls_per_representative: e.dialMode?.maxCallsPerRepresentative ?? null,
            engagementId: e.id,
          },
        ],
  );
}
