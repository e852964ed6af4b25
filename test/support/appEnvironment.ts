import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

const allDay = [{ start: '00:00', end: '24:00' }];

/** A queue open around the clock and an engagement whose only time rule is the requested windows (UTC, 00-24 legal hours). */
export function openAllDayEngagementFile(engagements: Record<string, unknown>[] = []): string {
  const file = {
    queues: [
      {
        name: 'q-all-day',
        operatingHours: {
          timeZone: 'UTC',
          days: { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay },
        },
        representatives: [{ userId: '00000000-0000-4000-8000-000000000001' }],
      },
    ],
    engagements: [
      {
        id: 'open',
        name: 'Open all day',
        workstream: 'Outbound voice',
        channel: 'voice',
        routing: { primaryQueue: 'q-all-day', skills: [] },
        type: 'representative-led',
        dialMode: { mode: 'progressive', maxCallsPerRepresentative: 2 },
        priority: 'high',
        phoneOrder: ['mobile', 'home'],
        quietHours: { mobile: [], home: [] },
        legalHours: { start: '00:00', end: '24:00' },
        timeZonePolicy: 'utc',
      },
      ...engagements,
    ],
  };
  const dir = mkdtempSync(join(tmpdir(), 'engagements-'));
  const path = join(dir, 'engagements.json');
  writeFileSync(path, JSON.stringify(file, null, 2));
  return path;
}

export interface AppSettingsHandle {
  /** Unique per call, so a file's tables never meet another file's. */
  readonly tablePrefix: string;
  /** Puts every setting it changed back as it was (unset ones are removed again). */
  restore(): void;
}

/**
 * Sets the app settings a test's runtime reads: Azurite from the global setup, a unique table prefix, the
 * given broker. `process.env` is process-wide: call `restore()` in the matching after-hook.
 */
export function setAppSettings(values: { engagementsFile: string; serviceBusConnection: string; extra?: Record<string, string> }): AppSettingsHandle {
  const tablePrefix = `t${Math.random().toString(36).slice(2, 10)}`;
  const settings: Record<string, string> = {
    ENGAGEMENTS_FILE: values.engagementsFile,
    ServiceBusConnection: values.serviceBusConnection,
    AzureWebJobsStorage: inject('azuriteTablesConnection'),
    TABLE_PREFIX: tablePrefix,
    CONTACT_BATCHES_QUEUE: 'contact-batches',
    ...values.extra,
  };
  const previous = new Map(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  return {
    tablePrefix,
    restore() {
      for (const [name, value] of previous) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
