/**
 * Intake throughput: a 100k-member segment page (NDJSON) through the real handler, planner, the local
 * Service Bus broker and Azurite, against two baselines measured in the same run: parsing the page
 * alone, and planning it alone (pure, no I/O).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import functions from '@azure/functions';
import type { BenchCase } from '../run.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { segmentMembersFunction } from '../../src/intake/intakeFunctions.js';
import { startAzurite } from '../../dev/azurite.js';
import { startServiceBusBroker } from '../../dev/serviceBus/broker.js';
import { configWith } from '../../dev/serviceBus/config.js';
import { planDeliveries } from '../../src/planning/planDeliveries.js';
import { disposeApp } from '../../src/app/registry.js';

const { HttpRequest, InvocationContext } = functions;
const MEMBERS = Number(process.env['BENCH_INTAKE_MEMBERS'] ?? 100_000);
const ZONES = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'Europe/London', 'Asia/Kolkata', 'Australia/Adelaide'];
const allDay = [{ start: '00:00', end: '24:00' }];

const engagementFile = {
  queues: [
    {
      name: 'q',
      operatingHours: {
        timeZone: 'UTC',
        days: { monday: allDay, tuesday: allDay, wednesday: allDay, thursday: allDay, friday: allDay, saturday: allDay, sunday: allDay },
      },
      representatives: [{ userId: '00000000-0000-4000-8000-000000000001' }],
    },
  ],
  engagements: [
    {
      id: 'bench',
      name: 'Bench',
      workstream: 'ws',
      channel: 'voice',
      routing: { primaryQueue: 'q' },
      type: 'representative-led',
      dialMode: { mode: 'progressive', maxCallsPerRepresentative: 2 },
      callOrder: { kind: 'custom-priority', attribute: 'score', direction: 'desc' },
      phoneOrder: ['mobile', 'home'],
      quietHours: { mobile: [{ start: '12:00', end: '13:00' }], home: [] },
      frequencyLimits: { perDay: 1, perWeek: 3 },
      operatingHours: { allowOutsideQueueHours: true },
      timeZonePolicy: 'contact-else-inferred',
    },
  ],
};

function page(): string {
  const lines: string[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    lines.push(
      JSON.stringify({
        contactId: `member-${i}`,
        firstName: `First${i % 1000}`,
        lastName: 'Bench',
        email: `m${i}@example.com`,
        phones: {
          mobile: `+1${[212, 312, 303, 415, 646, 773][i % 6]}555${String(i % 10_000).padStart(4, '0')}`,
          home: `+1202555${String((i * 7) % 10_000).padStart(4, '0')}`,
        },
        ...(i % 3 === 0 ? {} : { timeZone: ZONES[i % ZONES.length] }),
        locale: 'en-US',
        attributes: { score: (i * 7919) % 1000, policy: `P-${i}` },
      }),
    );
  }
  return lines.join('\n');
}

function rate(count: number, ms: number): string {
  return `${Math.round(count / (ms / 1000)).toLocaleString('en-US')}/s`;
}

const intake: BenchCase = {
  name: 'intake',
  description: `a ${MEMBERS.toLocaleString('en-US')}-member NDJSON segment page: parse, plan, and the whole handler to Service Bus`,
  async run() {
    const text = page();
    console.log(`page: ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB`);

    let t = performance.now();
    const members = text.split('\n').map((line) => contactInputSchema.parse(JSON.parse(line)));
    const parseMs = performance.now() - t;

    const catalog = parseEngagementFile(engagementFile);
    const engagement = catalog.engagements.get('bench');
    const queue = catalog.queues.get('q');
    if (engagement === undefined || queue === undefined) throw new Error('bench engagement missing');
    t = performance.now();
    const plan = planDeliveries({
      engagement,
      queue,
      triggerId: 't',
      now: Date.now(),
      contacts: members.map((contact) => ({ contact, source: 'segment:s/r/0' })),
      state: { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined },
    });
    const planMs = performance.now() - t;

    const azurite = await startAzurite();
    const broker = await startServiceBusBroker({
      port: 0,
      config: configWith([
        {
          Name: 'contact-batches',
          Properties: {
            RequiresDuplicateDetection: true,
            DuplicateDetectionHistoryTimeWindow: 'PT1H',
            LockDuration: 'PT1M',
            MaxDeliveryCount: 10,
            DefaultMessageTimeToLive: 'P1D',
            DeadLetteringOnMessageExpiration: false,
            RequiresSession: false,
          },
        },
      ]),
    });
    const dir = mkdtempSync(join(tmpdir(), 'bench-intake-'));
    writeFileSync(join(dir, 'engagements.json'), JSON.stringify(engagementFile));
    Object.assign(process.env, {
      ENGAGEMENTS_FILE: join(dir, 'engagements.json'),
      ServiceBusConnection: broker.connectionString,
      AzureWebJobsStorage: azurite.tablesConnectionString,
      TABLE_PREFIX: 'bench',
      INTAKE_MAX_PAGE_SIZE: String(MEMBERS),
    });
    try {
      const request = () =>
        new HttpRequest({
          method: 'POST',
          url: 'http://localhost/api/engagements/bench/segment-members?segmentId=s&exportRunId=r&page=0',
          body: { string: text },
          headers: { 'content-type': 'application/x-ndjson' },
          params: { engagementId: 'bench' },
          query: { segmentId: 's', exportRunId: 'r', page: '0' },
        });
      const rssBefore = process.memoryUsage().rss;
      t = performance.now();
      const response = await segmentMembersFunction.handler(request(), new InvocationContext({ logHandler: () => undefined }));
      const handlerMs = performance.now() - t;
      const rssAfter = process.memoryUsage().rss;
      const body = (response as { jsonBody?: { accepted?: number; batches?: number } }).jsonBody;
      t = performance.now();
      const retry = await segmentMembersFunction.handler(request(), new InvocationContext({ logHandler: () => undefined }));
      const retryMs = performance.now() - t;
      const stats = broker.stats('contact-batches');

      console.log(`parse + validate (baseline)   ${parseMs.toFixed(0).padStart(7)} ms  ${rate(MEMBERS, parseMs)}`);
      console.log(
        `plan (pure)                   ${planMs.toFixed(0).padStart(7)} ms  ${rate(MEMBERS, planMs)}  x${(planMs / parseMs).toFixed(2)} of parse; accepted ${plan.planned.length}, skipped ${plan.skipped.length}`,
      );
      console.log(
        `handler -> broker + Azurite   ${handlerMs.toFixed(0).padStart(7)} ms  ${rate(MEMBERS, handlerMs)}  x${(handlerMs / parseMs).toFixed(2)} of parse; status ${(response as { status?: number }).status}, accepted ${body?.accepted}, ${body?.batches} messages`,
      );
      console.log(
        `same page again (retry)       ${retryMs.toFixed(0).padStart(7)} ms  ${rate(MEMBERS, retryMs)}  status ${(retry as { status?: number }).status}; queue holds ${JSON.stringify(stats)}`,
      );
      console.log(
        `RSS growth during the handler: ${((rssAfter - rssBefore) / 1024 / 1024).toFixed(0)} MiB (page text itself: ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(0)} MiB)`,
      );
    } finally {
      await disposeApp();
      await broker.stop();
      await azurite.stop();
    }
  },
};

export default intake;
