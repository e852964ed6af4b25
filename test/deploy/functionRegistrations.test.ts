import { globSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDeploymentFacts, loadRegistrations } from './loadRegistrations.js';
import { checkRegistrations, type DeploymentFacts, type Registration } from './registrationCheck.js';

/**
 * `npm run build && func start` (and the same package in Azure) indexes what the compiled entry files
 * register through `@azure/functions`. These tests load exactly those files, with the stand-in for the
 * worker's `@azure/functions-core`, and hold every registration to what users configure and read.
 */
let registrations: Registration[] = [];
let entries: string[] = [];
let facts: DeploymentFacts;

beforeAll(() => {
  ({ functions: registrations, entries } = loadRegistrations());
  facts = loadDeploymentFacts();
}, 60_000);

/** A deep copy of the registrations with one function's trigger changed. */
function withTrigger(name: string, change: (trigger: Record<string, unknown>) => void): Registration[] {
  const copy = JSON.parse(JSON.stringify(registrations)) as Registration[];
  const fn = copy.find((f) => f.name === name);
  if (fn === undefined) throw new Error(`no function ${name}`);
  const trigger = Object.values(fn.bindings).find((b) => String(b['type']).endsWith('Trigger')) as Record<string, unknown>;
  change(trigger);
  return copy;
}

describe('the compiled entry files, as the Functions host indexes them', () => {
  it('load from package.json main, one registration per entry file', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/functions/*.js');
    expect(entries).toEqual(
      globSync('functions/*.ts')
        .map((f) => `dist/${f.replace(/\.ts$/, '.js')}`)
        .sort(),
    );
    expect(registrations).toHaveLength(entries.length);
  });

  it('match the README function list and HTTP API table, the sample settings and the queues', () => {
    expect(checkRegistrations(registrations, facts)).toEqual([]);
    // The list is not empty by accident: every kind of trigger the app uses is there.
    expect(new Set(facts.functionList.map((f) => f.trigger))).toEqual(new Set(['httpTrigger', 'serviceBusTrigger', 'timerTrigger', 'blobTrigger']));
  });

  it('name only app settings that local.settings.sample.json lists', () => {
    const named = registrations.flatMap((fn) =>
      Object.values(fn.bindings).flatMap((b) => [
        ...(typeof b['connection'] === 'string' ? [b['connection']] : []),
        ...Object.values(b).flatMap((v) => (typeof v === 'string' ? [...v.matchAll(/%([^%]+)%/g)].map((m) => m[1] ?? '') : [])),
      ]),
    );
    expect(new Set(named)).toEqual(
      new Set([
        'ServiceBusConnection',
        'CONTACT_BATCHES_QUEUE',
        'PACING_SCHEDULE',
        'JOURNEY_OUTBOX_SCHEDULE',
        'SEGMENT_EXPORTS_CONTAINER',
        'SegmentExportsStorage',
      ]),
    );
    for (const setting of named) expect(facts.sampleSettings).toHaveProperty([setting]);
  });
});

describe('the registration check fails on drift', () => {
  it('names a route, method or auth level that changed', () => {
    expect(
      checkRegistrations(
        withTrigger('engagementPause', (t) => (t['route'] = 'engagements/{engagementId}/hold')),
        facts,
      ),
    ).toEqual([
      'function "engagementPause": route "/api/engagements/{engagementId}/hold", the README lists "/api/engagements/{engagementId}/pause"',
      'function "engagementPause": POST /engagements/{engagementId}/hold (auth admin) is not in the README\'s HTTP API table',
      'HTTP API table: POST /engagements/{id}/pause (admin) matches no registered function',
    ]);
    expect(
      checkRegistrations(
        withTrigger('engagementPause', (t) => (t['authLevel'] = 'function')),
        facts,
      ),
    ).toContain('function "engagementPause": auth level function, the README lists admin');
    expect(
      checkRegistrations(
        withTrigger('callEvents', (t) => (t['methods'] = ['POST', 'PUT'])),
        facts,
      ),
    ).toContain('function "callEvents": methods POST,PUT, the README lists POST');
  });

  it('names an app setting or queue that the sample settings or the broker config lack', () => {
    expect(
      checkRegistrations(
        withTrigger('contactBatches', (t) => (t['connection'] = 'BusConnection')),
        facts,
      ),
    ).toContain(
      'function "contactBatches": binding serviceBusTrigger names connection setting "BusConnection", which local.settings.sample.json does not list',
    );
    expect(
      checkRegistrations(
        withTrigger('contactBatches', (t) => (t['queueName'] = '%BATCH_QUEUE%')),
        facts,
      ),
    ).toContain('function "contactBatches": queueName "%BATCH_QUEUE%" names app setting "BATCH_QUEUE", which local.settings.sample.json does not list');
    expect(
      checkRegistrations(
        withTrigger('contactBatches', (t) => (t['queueName'] = 'contact-batch')),
        facts,
      ),
    ).toContain('function "contactBatches": queue "contact-batch" (from "contact-batch") is not in config/servicebus.json');
    expect(
      checkRegistrations(
        withTrigger('pacingTick', (t) => (t['schedule'] = '*/5 * * * *')),
        facts,
      ),
    ).toContain('function "pacingTick": schedule "*/5 * * * *" is not NCRONTAB with seconds (6 fields)');
  });

  it('names a blob trigger whose path, connection or source changed, or whose container Blob Storage refuses', () => {
    expect(
      checkRegistrations(
        withTrigger('segmentExportBlob', (t) => (t['source'] = 'LogsAndContainerScan')),
        facts,
      ),
    ).toEqual([
      'function "segmentExportBlob": blob "%SEGMENT_EXPORTS_CONTAINER%/{name}" on "SegmentExportsStorage" (source LogsAndContainerScan), the README lists "%SEGMENT_EXPORTS_CONTAINER%/{name}" on "SegmentExportsStorage" (source EventGrid)',
    ]);
    expect(
      checkRegistrations(
        withTrigger('segmentExportBlob', (t) => (t['connection'] = 'ExportsStorage')),
        facts,
      ),
    ).toContain('function "segmentExportBlob": binding blobTrigger names connection setting "ExportsStorage", which local.settings.sample.json does not list');
    expect(
      checkRegistrations(
        withTrigger('segmentExportBlob', (t) => (t['path'] = 'Customer_Insights/{name}')),
        facts,
      ),
    ).toContain('function "segmentExportBlob": container "Customer_Insights" (from "Customer_Insights/{name}") is not a valid blob container name');
  });

  it('names a function the README does not list, and one it lists that is gone', () => {
    const renamed = (JSON.parse(JSON.stringify(registrations)) as Registration[]).map((f) => (f.name === 'preview' ? { ...f, name: 'planPreview' } : f));
    expect(checkRegistrations(renamed, facts)).toEqual([
      'function "planPreview": registered, but not in the README\'s function list',
      'function "preview": the README lists it, but no entry file registers it',
    ]);
  });
});
