/**
 * The intake side of `npm run bench memory`, run as its own process from the compiled product
 * (`bench/tsconfig.memory.json` compiles it with `src/` into `dist-bench/`), so that its RSS is the app's
 * own: no tsx, no other bench case, no page generator. It serves, on loopback:
 *
 * - `POST /page?n=` a segment page as NDJSON, through `acceptSegmentPage` (the segment-members door's
 *   two-pass read and `IntakeService`), to the broker given in `BENCH_SERVICEBUS`;
 * - `POST /page-whole?n=` the same page read the former way, as the baseline: every member parsed into
 *   one array (`readItems`) and handed to `IntakeService` whole;
 * - `POST /export?path=` a segment export file on local disk, through `processExportFile`;
 * - `GET /rss` its RSS now and its peak (the kernel's high-water mark), in KiB.
 *
 * The Table Storage stores are stubbed as in the former bench (all reservations granted, no do-not-contact
 * entries, no ledger history, progress in memory): their cost is I/O, not this process's memory.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ServiceBusClient } from '@azure/service-bus';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { acceptSegmentPage } from '../../src/intake/intakeHttp.js';
import { readItems } from '../../src/intake/readContacts.js';
import { IntakeService } from '../../src/intake/intakeService.js';
import { processExportFile } from '../../src/segmentExports/processExportFile.js';
import type { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import type { PendingContact, PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import type { ExportProgress, ExportProgressStore, PageCommit } from '../../src/store/segmentExports/exportProgressStore.js';
import { benchEngagementFile } from './intakeFixture.js';

export const EXPORT_CONTAINER = 'bench-exports';
const MAX_PAGE_SIZE = 1_000_000;
const EXPORT_PAGE_SIZE = Number(process.env['BENCH_EXPORT_PAGE_SIZE'] ?? 100_000);

const connectionString = process.env['BENCH_SERVICEBUS'];
if (connectionString === undefined) throw new Error('BENCH_SERVICEBUS is not set');

const catalog = parseEngagementFile({
  ...benchEngagementFile,
  engagements: benchEngagementFile.engagements.map((e) => ({ ...e, customerInsights: { exports: { container: EXPORT_CONTAINER, prefix: '' } } })),
});
const client = new ServiceBusClient(connectionString);
const sender = client.createSender('contact-batches');
const intake = new IntakeService({
  catalog,
  sender,
  batchMaxContacts: 500,
  doNotContact: { matching: () => Promise.resolve(new Set<string>()) } as unknown as DoNotContactStore,
  ledger: { recent: () => Promise.resolve(new Map<string, number[]>()) } as unknown as FrequencyLedgerStore,
  pending: {
    reserve: (_engagementId: string, contacts: readonly PendingContact[]) => {
      const ids = new Set(contacts.map((c) => c.contactId));
      return Promise.resolve({ reserved: ids, fresh: ids });
    },
    unreserve: () => Promise.resolve(),
  } as unknown as PendingContactStore,
});

/** Export progress in memory: one file at a time, no competing worker. */
class MemoryProgress {
  private readonly rows = new Map<string, ExportProgress>();

  get(_engagementId: string, fileKey: string): Promise<ExportProgress | undefined> {
    return Promise.resolve(this.rows.get(fileKey));
  }

  start(
    engagementId: string,
    fileKey: string,
    file: { blobName: string; version: string; totalRows: number; state: ExportProgress['state'] },
  ): Promise<ExportProgress> {
    const at = new Date().toISOString();
    const row: ExportProgress = {
      engagementId,
      ...file,
      committedRows: 0,
      pages: 0,
      accepted: 0,
      skipped: {},
      badRows: 0,
      badReasons: {},
      badExamples: [],
      error: null,
      startedAt: at,
      updatedAt: at,
      etag: '1',
    };
    this.rows.set(fileKey, row);
    return Promise.resolve(row);
  }

  commitPage(current: ExportProgress, fileKey: string, page: PageCommit, done: boolean): Promise<ExportProgress> {
    const skipped: Record<string, number> = { ...current.skipped };
    for (const [reason, n] of Object.entries(page.skipped)) skipped[reason] = (skipped[reason] ?? 0) + n;
    const row: ExportProgress = {
      ...current,
      state: done ? 'completed' : 'processing',
      committedRows: page.committedRows,
      pages: current.pages + 1,
      accepted: current.accepted + page.accepted,
      skipped,
      badRows: current.badRows + page.badRows.length,
      updatedAt: new Date().toISOString(),
    };
    this.rows.set(fileKey, row);
    return Promise.resolve(row);
  }
}

const usage = () => {
  const now = process.memoryUsage();
  return {
    rssKiB: Math.round(now.rss / 1024),
    peakKiB: process.resourceUsage().maxRSS,
    heapKiB: Math.round(now.heapUsed / 1024),
    heapTotalKiB: Math.round(now.heapTotal / 1024),
    externalKiB: Math.round(now.external / 1024),
  };
};

async function handle(request: IncomingMessage, response: ServerResponse): Promise<unknown> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/rss') return usage();
  if (url.pathname === '/page') {
    const n = url.searchParams.get('n') ?? '0';
    const result = await acceptSegmentPage(intake, 'bench', `segment:s/r/${n}`, request, 'ndjson', MAX_PAGE_SIZE);
    return { result, ...usage() };
  }
  if (url.pathname === '/page-whole') {
    const source = `segment:s/whole/${url.searchParams.get('n') ?? '0'}`;
    const members = await readItems(request, 'ndjson', contactInputSchema, { maxItems: MAX_PAGE_SIZE });
    const result = await intake.accept('bench', { sourceKey: source, contacts: members.map((contact) => ({ contact, source })) });
    return { result, ...usage() };
  }
  if (url.pathname === '/export') {
    const path = url.searchParams.get('path') ?? '';
    const { size, mtimeMs } = await stat(path);
    const result = await processExportFile(
      {
        catalog,
        intake,
        blobs: {
          version: () => Promise.resolve({ etag: `${size}-${mtimeMs}`, size }),
          open: () => Promise.resolve(createReadStream(path)),
          readText: () => Promise.resolve(undefined),
        },
        progress: new MemoryProgress() as unknown as ExportProgressStore,
        pageSize: EXPORT_PAGE_SIZE,
        clock: Date.now,
        log: () => undefined,
      },
      EXPORT_CONTAINER,
      'segment.ndjson',
    );
    return { result, ...usage() };
  }
  response.statusCode = 404;
  return { error: 'not found' };
}

const server = createServer((request, response) => {
  handle(request, response).then(
    (body) => response.setHeader('content-type', 'application/json').end(JSON.stringify(body)),
    (error: unknown) => {
      response.statusCode = 500;
      response.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    },
  );
});
// A page takes minutes on a loaded machine: no request timeout (Node's default is 5 minutes).
server.requestTimeout = 0;
// The sender's link opens before the baseline is taken, so the baseline holds the connected SDK.
await sender.createMessageBatch();
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address !== null ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  server.close();
  void client.close().finally(() => process.exit(0));
});
