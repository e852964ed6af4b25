/**
 * Memory of a 1,000,000-contact segment on one instance: ten 100,000-member NDJSON pages read by the
 * real body reader (`readItems`), planned, batched and published by the real `IntakeService` to the
 * local Service Bus broker running as a child process (`dev/serviceBus/main.ts`), so the peak RSS
 * printed is this process's own. The Table Storage stores are stubbed (reservations all granted, no
 * do-not-contact entries, no ledger history): 1M contacts through Azurite takes over ten minutes on
 * the development machine, and their cost is I/O, not this process's memory. Prints peak RSS after the
 * first page (100k) and after the tenth (1M); flat means the second is about the first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ServiceBusClient } from '@azure/service-bus';
import type { BenchCase } from '../run.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { IntakeService } from '../../src/intake/intakeService.js';
import { readItems } from '../../src/intake/readContacts.js';
import type { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import type { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import type { PendingContactStore, PendingContact } from '../../src/store/contacts/pendingContactStore.js';
import { benchEngagementFile, ndjsonPage } from '../support/intakeFixture.js';

const PAGES = Number(process.env['BENCH_MEMORY_PAGES'] ?? 10);
const PAGE_SIZE = 100_000;

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
const peakKiB = () => process.resourceUsage().maxRSS;

/** Starts the broker as a child process on a free port; resolves with its connection string. */
function startBrokerProcess(): Promise<{ child: ChildProcess; connectionString: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/serviceBus/main.ts'], {
    env: { ...process.env, SERVICEBUS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`broker exited with ${code} before it listened`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const at = line.indexOf('ServiceBusConnection=');
      if (at >= 0) resolve({ child, connectionString: line.slice(at + 'ServiceBusConnection='.length) });
    });
  });
}

const memory: BenchCase = {
  name: 'memory',
  description: `peak RSS of a ${(PAGES * PAGE_SIZE).toLocaleString('en-US')}-contact segment (${PAGES} pages) through IntakeService to the broker (a child process)`,
  async run() {
    const broker = await startBrokerProcess();
    const client = new ServiceBusClient(broker.connectionString);
    const sender = client.createSender('contact-batches');
    const stores = {
      doNotContact: { matching: () => Promise.resolve(new Set<string>()) } as unknown as DoNotContactStore,
      ledger: { recent: () => Promise.resolve(new Map<string, number[]>()) } as unknown as FrequencyLedgerStore,
      pending: {
        reserve: (_engagementId: string, contacts: readonly PendingContact[]) => {
          const ids = new Set(contacts.map((c) => c.contactId));
          return Promise.resolve({ reserved: ids, fresh: ids });
        },
        unreserve: () => Promise.resolve(),
      } as unknown as PendingContactStore,
    };
    const service = new IntakeService({ catalog: parseEngagementFile(benchEngagementFile), sender, batchMaxContacts: 500, ...stores });
    try {
      const before = process.memoryUsage().rss / 1024;
      const started = performance.now();
      let accepted = 0;
      let messages = 0;
      let afterFirst = 0;
      for (let page = 0; page < PAGES; page++) {
        // The request body as the Functions host hands it over: a stream of the page's bytes.
        const body = new Response(ndjsonPage(page * PAGE_SIZE, PAGE_SIZE, { distinctPhones: true })).body;
        const members = await readItems(body, 'ndjson', contactInputSchema, { maxItems: PAGE_SIZE });
        const result = await service.accept('bench', {
          sourceKey: `segment:s/r/${page}`,
          contacts: members.map((contact) => ({ contact, source: `segment:s/r/${page}` })),
        });
        accepted += result.accepted;
        messages += result.batches + result.scheduledBatches;
        if (page === 0) afterFirst = peakKiB();
        console.log(
          `page ${page + 1}/${PAGES}: accepted ${result.accepted}, peak RSS so far ${mib(peakKiB())}, RSS now ${mib(process.memoryUsage().rss / 1024)}`,
        );
      }
      const seconds = (performance.now() - started) / 1000;
      const afterAll = peakKiB();
      console.log(`RSS before the first page (baseline)   ${mib(before)}`);
      console.log(`peak RSS after 100k contacts           ${mib(afterFirst)}`);
      console.log(
        `peak RSS after ${(PAGES * PAGE_SIZE).toLocaleString('en-US')} contacts        ${mib(afterAll)}  ${(afterAll / afterFirst).toFixed(2)}x the 100k peak; ${accepted} accepted, ${messages} messages in ${seconds.toFixed(0)} s (${Math.round(accepted / seconds)}/s)`,
      );
    } finally {
      await client.close();
      broker.child.kill('SIGTERM');
    }
  },
};

export default memory;
