import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appRegistry, disposeApp } from '../../src/app/registry.js';
import { contactBatchSchema } from '../../src/bus/contactBatchMessage.js';
import { composeSegmentExports } from '../../src/segmentExports/composeSegmentExports.js';
import { processExportFile, type ExportFileDeps } from '../../src/segmentExports/processExportFile.js';
import { openAllDayEngagementFile, setAppSettings, type AppSettingsHandle } from '../support/appEnvironment.js';
import { mobileEngagementEntry } from '../support/engagements.js';
import { startBroker } from '../support/serviceBus.js';

const CONTAINER = `ci${Math.random().toString(36).slice(2, 10)}`;
const ROOT = 'CustomerInsights_8f2c/callList/';
const COLUMNS = ['contactid', 'firstname', 'lastname', 'mobilephone', 'emailaddress1'];

let broker: Awaited<ReturnType<typeof startBroker>>;
let appSettings: AppSettingsHandle;
let container: ContainerClient;
let deps: ExportFileDeps;

function engagement(id: string, prefix: string): Record<string, unknown> {
  return mobileEngagementEntry(id, 'q-all-day', { customerInsights: { exports: { container: CONTAINER, prefix } } });
}

beforeAll(async () => {
  broker = await startBroker([{ name: 'contact-batches', duplicateDetection: true }]);
  appSettings = setAppSettings({
    engagementsFile: openAllDayEngagementFile([engagement('ci-segment', ROOT), engagement('ci-drop', 'drops/')]),
    serviceBusConnection: broker.broker.connectionString,
    extra: { SegmentExportsStorage: inject('azuriteConnection'), SEGMENT_EXPORTS_CONTAINER: CONTAINER, SEGMENT_EXPORT_PAGE_SIZE: '4' },
  });
  container = BlobServiceClient.fromConnectionString(inject('azuriteConnection')).getContainerClient(CONTAINER);
  await container.createIfNotExists();
  await upload(`${ROOT}model.json`, JSON.stringify(cdmModel('Contact', COLUMNS)));
  deps = (await appRegistry.use(composeSegmentExports)).deps;
});

afterAll(async () => {
  await disposeApp();
  appSettings.restore();
  await container.deleteIfExists();
  await broker.stop();
});

function cdmModel(table: string, columns: readonly string[]) {
  return {
    name: 'callList',
    version: '1.0',
    entities: [{ $type: 'LocalEntity', name: table, attributes: columns.map((name) => ({ name, dataType: 'string' })), partitions: [] }],
  };
}

async function upload(name: string, text: string | Buffer): Promise<void> {
  const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  await container.getBlockBlobClient(name).upload(body, body.length);
}

const phone = (i: number) => `+1212555${String(1000 + i).padStart(4, '0')}`;
const row = (i: number) => `c-${i},First${i},Last${i},${phone(i)},c${i}@example.com`;

/** Every contact published since the last drain, in order. */
async function drainContacts(): Promise<string[]> {
  const receiver = broker.client.createReceiver('contact-batches');
  const all: ServiceBusReceivedMessage[] = [];
  for (;;) {
    const batch = await receiver.receiveMessages(100, { maxWaitTimeInMs: 700 });
    if (batch.length === 0) break;
    for (const m of batch) await receiver.completeMessage(m);
    all.push(...batch);
  }
  await receiver.close();
  return all.flatMap((m) => contactBatchSchema.parse(m.body).contacts.map((c) => c.contactId));
}

describe('segment export files from Blob Storage', () => {
  it('reads columns from model.json: quoted commas, embedded newlines and a BOM; bad rows counted with line and reason', async () => {
    const csv = [
      row(1),
      `c-2,"Smith, Jr.","Multi`,
      `line",${phone(2)},c2@example.com`,
      `c-3,Only,Three`,
      `c-4,Bad,Mail,${phone(4)},not-an-email`,
      row(5),
      '',
    ].join('\r\n');
    const name = `${ROOT}Contact/2026/11/29/1030/Contact_1.csv`;
    await upload(name, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csv, 'utf8')]));
    const result = await processExportFile(deps, CONTAINER, name);
    if (result.status !== 'completed') throw new Error(`expected completed, got ${result.status}`);
    expect(result.progress).toMatchObject({
      state: 'completed',
      totalRows: 5,
      committedRows: 5,
      accepted: 3,
      badRows: 2,
      badReasons: { 'column-count': 1, 'invalid-field': 1 },
    });
    expect(result.progress.badExamples.map((b) => b.line)).toEqual([4, 5]);
    expect(result.progress.badExamples[1]?.reason).toContain('email');
    expect(await drainContacts()).toEqual(['c-1', 'c-2', 'c-5']);
  });

  it('a file dropped outside the export pattern takes its columns from a header row; NDJSON works too', async () => {
    await upload('drops/list.csv', `contactid,mobilephone,firstname\nd-1,${phone(11)},Ann\nd-2,${phone(12)},Bob\n`);
    await upload('drops/list.ndjson', `{"contactid":"d-3","mobilephone":"${phone(13)}"}\nnot json\n{"contactId":"d-4","phones":{"mobile":"${phone(14)}"}}\n`);
    const csv = await processExportFile(deps, CONTAINER, 'drops/list.csv');
    const ndjson = await processExportFile(deps, CONTAINER, 'drops/list.ndjson');
    expect(csv).toMatchObject({ status: 'completed', progress: { totalRows: 2, accepted: 2, badRows: 0 } });
    expect(ndjson).toMatchObject({ status: 'completed', progress: { totalRows: 3, accepted: 2, badRows: 1, badExamples: [{ line: 2 }] } });
    expect((await drainContacts()).sort()).toEqual(['d-1', 'd-2', 'd-3', 'd-4']);
  });

  it('a file with the wrong columns is rejected whole and publishes nothing', async () => {
    await upload('drops/wrong.csv', `id,name,city\nx-1,Ann,Paris\nx-2,Bob,Rome\n`);
    const result = await processExportFile(deps, CONTAINER, 'drops/wrong.csv');
    expect(result).toMatchObject({ status: 'rejected', progress: { state: 'rejected', accepted: 0, committedRows: 0 } });
    if (result.status !== 'rejected') throw new Error('expected rejected');
    expect(result.progress.error).toContain('wrong columns');
    expect(await drainContacts()).toEqual([]);
  });

  it('broken CSV quoting rejects the file before any page is published', async () => {
    await upload('drops/broken.csv', `contactid,mobilephone\nb-1,${phone(21)}\nb-2,"${phone(22)}\n`);
    const result = await processExportFile(deps, CONTAINER, 'drops/broken.csv');
    expect(result.status).toBe('rejected');
    expect(await drainContacts()).toEqual([]);
  });

  it('a crash after a page is published but before its checkpoint resumes there and engages no one twice; a redelivered event is a no-op', async () => {
    const name = `${ROOT}Contact/2026/11/29/1100/Contact_1.csv`;
    await upload(name, `${Array.from({ length: 18 }, (_, i) => row(100 + i)).join('\n')}\n`);
    let pages = 0;
    const crashing: ExportFileDeps = {
      ...deps,
      intake: {
        accept: async (engagementId, trigger) => {
          const accepted = await deps.intake.accept(engagementId, trigger);
          if (++pages === 3) throw new Error('host crashed');
          return accepted;
        },
      },
    };
    await expect(processExportFile(crashing, CONTAINER, name)).rejects.toThrow('host crashed');
    const resumed = await processExportFile(deps, CONTAINER, name);
    expect(resumed).toMatchObject({ status: 'completed', alreadyDone: false, progress: { totalRows: 18, committedRows: 18, accepted: 18, pages: 5 } });
    const again = await processExportFile(deps, CONTAINER, name);
    expect(again).toMatchObject({ status: 'completed', alreadyDone: true });
    const published = await drainContacts();
    expect(published).toHaveLength(18);
    expect(new Set(published).size).toBe(18);
  });
});
