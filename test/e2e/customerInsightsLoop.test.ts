import { createServer, type Server } from 'node:http';
import { InvocationContext } from '@azure/functions';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { appRegistry, disposeApp } from '../../src/app/registry.js';
import { DataverseClient } from '../../src/dialers/dynamics365/dataverseClient.js';
import { composeDispatch } from '../../src/dispatch/composeDispatch.js';
import { runPacingTick } from '../../src/dispatch/runPacingTick.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { drainJourneyOutbox } from '../../src/journeyOutcomes/drainJourneyOutbox.js';
import { composeSegmentExports } from '../../src/segmentExports/composeSegmentExports.js';
import { processExportFile } from '../../src/segmentExports/processExportFile.js';
import { segmentExportBlobFunction } from '../../src/segmentExports/segmentExportFunctions.js';
import { JourneyOutboxStore } from '../../src/store/journeyOutcomes/journeyOutboxStore.js';
import { Tables } from '../../src/store/tables.js';
import { openAllDayEngagementFile, setAppSettings, type AppSettingsHandle } from '../support/appEnvironment.js';
import { startBroker } from '../support/serviceBus.js';

/**
 * The acceptance run: a 10,000-row Customer Insights export lands in Azurite's blob container, is
 * planned and published (with a crash injected mid-file), stored by dispatch, dialed by the simulator,
 * and every ended delivery fires exactly one journey custom trigger with its result. The Dataverse
 * stand-in of the Dynamics 365 work is not in main yet: the trigger calls go to a receiver in this test
 * that records them as Dataverse would receive them.
 */
const ROWS = 10_000;
const CONTAINER = `e2e${Math.random().toString(36).slice(2, 10)}`;
const ROOT = 'CustomerInsights_4b1d/outboundList/';
const TRIGGER = 'msdynmkt_proactivecallcompleted';
const reps = Array.from({ length: 100 }, (_, i) => ({ userId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` }));

let broker: Awaited<ReturnType<typeof startBroker>>;
let appSettings: AppSettingsHandle;
let container: ContainerClient;
let receiver: Server;
let receiverUrl = '';
const triggerCalls: { path: string; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  broker = await startBroker([{ name: 'contact-batches', duplicateDetection: true }]);
  const file = openAllDayEngagementFile([
    {
      id: 'ci-loop',
      name: 'Customer Insights loop',
      workstream: 'ws',
      channel: 'voice',
      routing: { primaryQueue: 'q-all-day' },
      type: 'representative-led',
      dialMode: { mode: 'progressive', maxCallsPerRepresentative: 5 },
      phoneOrder: ['mobile'],
      quietHours: { mobile: [] },
      legalHours: { start: '00:00', end: '24:00' },
      timeZonePolicy: 'utc',
      customerInsights: { exports: { container: CONTAINER, prefix: ROOT }, journeyTrigger: { name: TRIGGER } },
    },
  ]);
  // The sample queue has one representative; this run needs 100 (500 calls at once).
  const { readFileSync, writeFileSync } = await import('node:fs');
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { queues: { representatives: unknown[] }[] };
  for (const queue of parsed.queues) queue.representatives = reps;
  writeFileSync(file, JSON.stringify(parsed));
  appSettings = setAppSettings({
    engagementsFile: file,
    serviceBusConnection: broker.broker.connectionString,
    extra: {
      SegmentExportsStorage: inject('azuriteConnection'),
      SEGMENT_EXPORTS_CONTAINER: CONTAINER,
      SEGMENT_EXPORT_PAGE_SIZE: '1000',
      SIMULATOR_TIME_SCALE: '60',
      SIMULATOR_SEED: '7',
      SIMULATOR_PROFILE: JSON.stringify({
        liveAnswer: 0.4,
        answeringMachine: 0.2,
        busy: 0.1,
        invalidAddress: 0.05,
        callFailed: 0.05,
        liveRingSeconds: { mean: 4, sigma: 0 },
        noAnswerRingSeconds: { mean: 15, sigma: 0 },
        machineSeconds: { mean: 6, sigma: 0 },
        rejectSeconds: { mean: 2, sigma: 0 },
        handleSeconds: { mean: 20, sigma: 0 },
      }),
    },
  });
  container = BlobServiceClient.fromConnectionString(inject('azuriteConnection')).getContainerClient(CONTAINER);
  await container.createIfNotExists();
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      triggerCalls.push({ path: req.url ?? '', body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}, 120_000);

afterAll(async () => {
  await disposeApp();
  appSettings.restore();
  await container.deleteIfExists();
  await broker.stop();
  await new Promise((ok) => receiver.close(ok));
});

const context = () => new InvocationContext({ functionName: 'e2e', logHandler: () => undefined });

describe('Customer Insights loop, end to end', () => {
  it('10,000 exported rows -> planned, published, dialed -> one custom-trigger call per ended delivery; a crash mid-file engages no one twice', async () => {
    const model = {
      name: 'outboundList',
      entities: [{ name: 'Contact', attributes: ['contactid', 'firstname', 'mobilephone'].map((name) => ({ name, dataType: 'string' })) }],
    };
    await container.getBlockBlobClient(`${ROOT}model.json`).upload(JSON.stringify(model), JSON.stringify(model).length);
    const rows = Array.from({ length: ROWS }, (_, i) => `c-${i},"Name ${i}",+1212${String(2_000_000 + i).padStart(7, '0')}`);
    const csv = Buffer.from(`\uFEFF${rows.join('\r\n')}\r\n`, 'utf8');
    const name = `${ROOT}Contact/2026/11/29/1200/Contact_1.csv`;
    await container.getBlockBlobClient(name).upload(csv, csv.length);

    // A host crash after the fourth page was published, before its checkpoint.
    const { deps } = await appRegistry.use(composeSegmentExports);
    let pages = 0;
    const crashing = {
      ...deps,
      intake: {
        accept: async (...args: Parameters<typeof deps.intake.accept>) => {
          const accepted = await deps.intake.accept(...args);
          if (++pages === 4) throw new Error('host crashed');
          return accepted;
        },
      },
    };
    await expect(processExportFile(crashing, CONTAINER, name)).rejects.toThrow('host crashed');
    // The blob trigger runs again (Event Grid retry / a restarted host) and resumes from the checkpoint.
    await segmentExportBlobFunction.handler(
      csv,
      new InvocationContext({ functionName: 'segmentExportBlob', triggerMetadata: { blobTrigger: `${CONTAINER}/${name}` }, logHandler: () => undefined }),
    );

    const dispatch = await appRegistry.use(composeDispatch);
    const status = await import('../../src/dispatch/engagementStatus.js');
    const engagement = dispatch.catalog.engagements.get('ci-loop');
    if (engagement === undefined) throw new Error('engagement missing');
    const exportStatus = await status.describeEngagementStatus(dispatch.status, engagement, dispatch.clock());
    expect(exportStatus.segmentExports?.[0]).toMatchObject({ state: 'completed', totalRows: ROWS, committedRows: ROWS, accepted: ROWS, badRows: 0, pages: 10 });

    // Dispatch takes every contact batch off the queue (the Service Bus trigger's work).
    const batches = broker.client.createReceiver('contact-batches');
    let stored = 0;
    let duplicates = 0;
    for (;;) {
      const messages = await batches.receiveMessages(50, { maxWaitTimeInMs: 1_000 });
      if (messages.length === 0) break;
      const result = await storeContactBatches(
        dispatch.contactBatches,
        messages.map((m) => m.body as unknown),
        messages.map((m) => ({ messageId: String(m.messageId), enqueuedTimeUtc: undefined, deliveryCount: m.deliveryCount })),
        context(),
      );
      stored += result.stored;
      duplicates += result.duplicates;
      for (const m of messages) await batches.completeMessage(m);
    }
    await batches.close();
    expect(stored).toBe(ROWS);
    expect(duplicates).toBe(0);

    // Pacing ticks dial through the simulator until every delivery has ended; the outbox fills as they do.
    const { settings } = { settings: appRegistry.settings() };
    const outbox = new JourneyOutboxStore(new Tables({ connectionString: inject('azuriteTablesConnection') }, settings.TABLE_PREFIX));
    await vi.waitFor(
      async () => {
        await runPacingTick(dispatch.tick, dispatch.clock());
        const summary = await outbox.summary('ci-loop');
        if (summary.pending < ROWS) throw new Error(`${summary.pending} of ${ROWS} deliveries ended`);
      },
      { timeout: 400_000, interval: 500 },
    );

    // The outbox drains to "Dataverse": exactly one custom-trigger call per ended delivery, with its result.
    const drain = {
      outbox,
      dataverse: new DataverseClient({
        orgUrl: receiverUrl,
        credential: { getToken: () => Promise.resolve({ token: 'stand-in', expiresOnTimestamp: Date.now() + 3_600_000 }) },
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 5_000, requestTimeoutMs: 5_000 },
      }),
      clock: Date.now,
      maxAttempts: 5,
      claimMs: 60_000,
      batchSize: 1_000,
      log: () => undefined,
    };
    for (;;) {
      const round = await drainJourneyOutbox(drain);
      if (round.sent === 0) break;
    }
    expect(triggerCalls).toHaveLength(ROWS);
    expect(new Set(triggerCalls.map((c) => c.path))).toEqual(new Set([`/api/data/v9.2/${TRIGGER}`]));
    const byDelivery = new Map(triggerCalls.map((c) => [String(c.body['msdynmkt_deliveryid']), c.body]));
    expect(byDelivery.size).toBe(ROWS);
    expect(new Set(triggerCalls.map((c) => c.body['msdynmkt_profileid'])).size).toBe(ROWS);

    // Each call carries the result the delivery ended with, as recorded by dispatch.
    const { events } = await dispatch.tick.outcomes.since('ci-loop', 0);
    expect(events).toHaveLength(ROWS);
    for (const event of events) {
      expect(byDelivery.get(event.deliveryId)).toMatchObject({ msdynmkt_result: event.result, msdynmkt_attempts: event.attempt });
    }
    expect(new Set(events.map((e) => e.result)).size).toBeGreaterThan(2);
  }, 600_000);
});
