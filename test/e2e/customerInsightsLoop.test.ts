import { randomBytes } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startDataverseStandIn, type DataverseStandIn } from '../../dev/dataverse/dataverseStandIn.js';
import { appRegistry, disposeApp } from '../../src/app/registry.js';
import { composeDispatch } from '../../src/dispatch/composeDispatch.js';
import { describeEngagementStatus } from '../../src/dispatch/engagementStatus.js';
import { runPacingTick } from '../../src/dispatch/runPacingTick.js';
import { storeContactBatches } from '../../src/dispatch/storeContactBatches.js';
import { composeJourneyOutcomes } from '../../src/journeyOutcomes/composeJourneyOutcomes.js';
import { drainJourneyOutbox } from '../../src/journeyOutcomes/drainJourneyOutbox.js';
import { cancelQueuedDeliveries } from '../../src/management/cancelQueuedDeliveries.js';
import { composeManagement } from '../../src/management/composeManagement.js';
import { composeSegmentExports } from '../../src/segmentExports/composeSegmentExports.js';
import { processExportFile } from '../../src/segmentExports/processExportFile.js';
import { segmentExportBlobFunction } from '../../src/segmentExports/segmentExportFunctions.js';
import { openAllDayEngagementFile, setAppSettings, type AppSettingsHandle } from '../support/appEnvironment.js';
import { mobileEngagementEntry } from '../support/engagements.js';
import { startBroker } from '../support/serviceBus.js';

/**
 * The acceptance run: a 10,000-row Customer Insights export lands in Azurite's blob container, is
 * planned and published (with a crash injected mid-file), stored by dispatch, and dialed by the
 * simulator; every ended delivery fires exactly one journey custom trigger with its result, received
 * by the local Dataverse stand-in (dev/dataverse) through the app's own outbox drain and credential.
 *
 * Every row is read, planned, published and stored; ending all 10,000 deliveries costs about a dozen
 * sequential Table Storage operations each and took minutes on a loaded machine (docs/decisions.md).
 * So the simulator places one tick's calls (500 lines), an operator cancels CANCELLED queued deliveries
 * (an end without a call, which must reach the journey too, as `Cancelled` with no attempt), and the
 * rest stay queued: they have not ended, and no call may arrive for them.
 */
const ROWS = 10_000;
/** Calls placed: one tick at 100 representatives x 5 lines. */
const DIALED = 500;
/** Queued deliveries an operator cancels. */
const CANCELLED = 500;
const TOKEN_KEY = randomBytes(32).toString('base64url');
const CONTAINER = `e2e${Math.random().toString(36).slice(2, 10)}`;
const ROOT = 'CustomerInsights_4b1d/outboundList/';
const TRIGGER = 'msdynmkt_proactivecallcompleted';
const reps = Array.from({ length: 100 }, (_, i) => ({ userId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` }));

let broker: Awaited<ReturnType<typeof startBroker>>;
let appSettings: AppSettingsHandle;
let container: ContainerClient;
let standIn: DataverseStandIn;

beforeAll(async () => {
  broker = await startBroker([{ name: 'contact-batches', duplicateDetection: true }]);
  standIn = await startDataverseStandIn({ tokenKey: TOKEN_KEY, configs: [], telephony: { place: () => undefined } });
  const file = openAllDayEngagementFile([
    mobileEngagementEntry('ci-loop', 'q-all-day', {
      name: 'Customer Insights loop',
      dialMode: { mode: 'progressive', maxCallsPerRepresentative: 5 },
      customerInsights: { exports: { container: CONTAINER, prefix: ROOT }, journeyTrigger: { name: TRIGGER } },
    }),
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
      SEGMENT_EXPORT_PAGE_SIZE: '500',
      // A call lasts at most 24 simulated seconds: 40 ms of real time.
      SIMULATOR_TIME_SCALE: '600',
      // As npm start points the app at the stand-in.
      DATAVERSE_URL: standIn.url,
      DATAVERSE_LOCAL_TOKEN_KEY: TOKEN_KEY,
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
}, 120_000);

afterAll(async () => {
  await disposeApp();
  appSettings.restore();
  await container.deleteIfExists();
  await broker.stop();
  await standIn.stop();
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

    // A host crash after the seventh page was published, before its checkpoint.
    const { deps } = await appRegistry.use(composeSegmentExports);
    let pages = 0;
    const crashing = {
      ...deps,
      intake: {
        accept: async (...args: Parameters<typeof deps.intake.accept>) => {
          const accepted = await deps.intake.accept(...args);
          if (++pages === 7) throw new Error('host crashed');
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
    const engagement = dispatch.catalog.engagements.get('ci-loop');
    if (engagement === undefined) throw new Error('engagement missing');
    const exportStatus = await describeEngagementStatus(dispatch.status, engagement, dispatch.clock());
    expect(exportStatus.segmentExports?.[0]).toMatchObject({ state: 'completed', totalRows: ROWS, committedRows: ROWS, accepted: ROWS, badRows: 0, pages: 20 });

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

    // A pacing tick dials through the simulator; an operator cancels some of the queue (the management
    // API's cancel); then the placed calls end (ticks reconcile nothing: the simulator reports each end).
    const { dialed } = await runPacingTick(dispatch.tick, dispatch.clock());
    expect(dialed).toBe(DIALED);
    const queued = await dispatch.deliveries.queued('ci-loop', CANCELLED);
    const { cancel } = await appRegistry.use(composeManagement);
    const cancelReport = await cancelQueuedDeliveries(cancel, engagement, { deliveryIds: queued.map((r) => r.deliveryId) }, dispatch.clock());
    expect(cancelReport.cancelled).toBe(CANCELLED);
    await vi.waitFor(
      async () => {
        const inFlight = await dispatch.deliveries.inFlight('ci-loop');
        if (inFlight.length > 0) throw new Error(`${inFlight.length} calls still in flight`);
      },
      { timeout: 120_000, interval: 100 },
    );

    // The journey outbox timer's work, as composed for the app (DATAVERSE_URL on loopback: the stand-in's
    // tokens), until nothing is left: exactly one custom-trigger call per ended delivery, with its result.
    const { drain } = await appRegistry.use(composeJourneyOutcomes);
    if (drain === undefined) throw new Error('the journey outbox has no Dataverse to drain to');
    for (;;) {
      const round = await drainJourneyOutbox({ ...drain, batchSize: 1_000 });
      expect(round).toMatchObject({ failed: 0, rescheduled: 0 });
      if (round.sent === 0) break;
    }
    const listed = (await (await fetch(`${standIn.url}/_standin/msdynmkt-calls`)).json()) as { value: { action: string; body: Record<string, unknown> }[] };
    const calls = listed.value;
    const ended = DIALED + CANCELLED;
    expect(calls).toHaveLength(ended);
    expect(new Set(calls.map((c) => c.action))).toEqual(new Set([TRIGGER]));
    const byDelivery = new Map(calls.map((c) => [String(c.body['msdynmkt_deliveryid']), c.body]));
    expect(byDelivery.size).toBe(ended);
    expect(new Set(calls.map((c) => c.body['msdynmkt_profileid'])).size).toBe(ended);

    // Each placed call's delivery carries the result it ended with, as recorded by dispatch; each
    // cancelled one says Cancelled, with no attempt made.
    const { events } = await dispatch.tick.outcomes.since('ci-loop', 0);
    expect(events).toHaveLength(DIALED);
    for (const event of events) {
      expect(byDelivery.get(event.deliveryId)).toMatchObject({ msdynmkt_result: event.result, msdynmkt_attempts: event.attempt });
    }
    expect(new Set(events.map((e) => e.result)).size).toBeGreaterThan(2);
    const called = new Set(events.map((e) => e.deliveryId));
    const notCalled = calls.filter((c) => !called.has(String(c.body['msdynmkt_deliveryid'])));
    expect(new Set(notCalled.map((c) => String(c.body['msdynmkt_deliveryid'])))).toEqual(new Set(queued.map((r) => r.deliveryId)));
    for (const c of notCalled) expect(c.body).toMatchObject({ msdynmkt_result: 'Cancelled', msdynmkt_attempts: 0 });
    // The deliveries still queued have not ended: nothing went to their journey.
    const stillQueued = await dispatch.deliveries.queued('ci-loop', ROWS);
    expect(stillQueued).toHaveLength(ROWS - ended);
    expect(stillQueued.filter((r) => byDelivery.has(r.deliveryId))).toEqual([]);
    const after = await describeEngagementStatus(dispatch.status, engagement, dispatch.clock());
    expect(after.journeyOutcomes).toMatchObject({ pending: 0, sent: ended, failed: 0 });
  }, 300_000);
});
