/**
 * Intake throughput: a 100k-member segment page (NDJSON) through the real handler, planner, the local
 * Service Bus broker and Azurite, against baselines measured in the same run: parsing the page alone,
 * planning it alone (pure, no I/O), and the raw `@azure/service-bus` batch send of the same messages
 * to the same broker. The broker and Azurite run as child processes (in production both are remote
 * services), for the baseline and the handler alike. Then the do-not-contact check of one page against
 * lists of 10k and 10M numbers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import functions from '@azure/functions';
import { ServiceBusClient } from '@azure/service-bus';
import type { BenchCase } from '../run.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { segmentMembersFunction } from '../../src/intake/intakeFunctions.js';
import { startAzurite } from '../../dev/azurite.js';
import { configWith } from '../../dev/serviceBus/config.js';
import { benchQueueProperties, startBrokerProcess } from '../support/brokerProcess.js';
import { checkPhones, doNotContactKeysFor } from '../../src/planning/planDeliveries.js';
import { buildContactBatches, maxBodyBytesFor, publishContactBatches } from '../../src/bus/publishContactBatches.js';
import { disposeApp } from '../../src/app/registry.js';
import { digestHalves, GrowingBloomFilter } from '../../src/store/contacts/bloomFilter.js';
import { createHmac } from 'node:crypto';
import { benchEngagementFile, ndjsonPage } from '../support/intakeFixture.js';
import { comparePlanning, describePlanning } from '../support/planningComparison.js';

const { HttpRequest, InvocationContext } = functions;
const MEMBERS = Number(process.env['BENCH_INTAKE_MEMBERS'] ?? 100_000);

function rate(count: number, ms: number): string {
  return `${Math.round(count / (ms / 1000)).toLocaleString('en-US')}/s`;
}

/** CPU time (user + system) of this process, in ms: the app's own work; the rest of the wall time is waiting on the broker and Azurite. */
function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function ms(value: number): string {
  return `${value.toFixed(0).padStart(7)} ms`;
}

/** The per-page do-not-contact work of `matching` against a filter of `listSize` entries (HMAC per number, filter checks, hits counted). */
function dncPageCost(keys: readonly string[], listSize: number): { ms: number; hits: number; filterMiB: number; buildMs: number } {
  let t = performance.now();
  const filter = new GrowingBloomFilter(GrowingBloomFilter.firstCapacityFor(listSize));
  // The stored digests are uniform: random halves stand in for 10M HMACs (filter behaviour is the same).
  for (let i = 0; i < listSize; i++) filter.add(randomInt(2 ** 32), randomInt(2 ** 32));
  const buildMs = performance.now() - t;
  const key = Buffer.from('bench-do-not-contact-hash-key-0123456789');
  t = performance.now();
  let hits = 0;
  for (const k of keys) {
    const digest = createHmac('sha256', key).update(k).digest('hex');
    if (filter.mayContain(...digestHalves(digest))) hits++;
  }
  return { ms: performance.now() - t, hits, filterMiB: filter.bytes / 1024 / 1024, buildMs };
}

const intake: BenchCase = {
  name: 'intake',
  description: `a ${MEMBERS.toLocaleString('en-US')}-member NDJSON segment page: parse, plan, raw SDK send, and the whole handler to Service Bus`,
  async run() {
    const text = ndjsonPage(0, MEMBERS);
    console.log(`page: ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB`);

    let t = performance.now();
    const members = text.split('\n').map((line) => contactInputSchema.parse(JSON.parse(line)));
    const parseMs = performance.now() - t;

    const catalog = parseEngagementFile(benchEngagementFile);
    const engagement = catalog.engagements.get('bench');
    const queue = catalog.queues.get('q');
    if (engagement === undefined || queue === undefined) throw new Error('bench engagement missing');
    const contacts = members.map((contact) => ({ contact, source: 'segment:s/r/0' }));
    const now = Date.now();
    const state = { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined };
    // Pure planning, against the planner as it was before the speed work (test/support/referencePlanDeliveries.ts)
    // on the same page in the same run: the bench page (numbers repeat), then a page where every number is new.
    const repeatedPage = comparePlanning({ engagement, queue, contacts, state, now });
    const plan = repeatedPage.plan;
    const planMs = repeatedPage.now.wallMs;
    const fresh = ndjsonPage(MEMBERS, MEMBERS, { distinctPhones: true })
      .split('\n')
      .map((line) => ({ contact: contactInputSchema.parse(JSON.parse(line)), source: 'segment:s/r/1' }));
    const distinctPage = comparePlanning({ engagement, queue, contacts: fresh, state, now });

    const dncKeys = [...doNotContactKeysFor(contacts, checkPhones(engagement, contacts))].filter((k) => k.startsWith('+'));
    const dnc10k = dncPageCost(dncKeys, 10_000);
    const dnc10m = dncPageCost(dncKeys, 10_000_000);

    const azurite = await startAzurite();
    const broker = await startBrokerProcess(
      configWith([
        { Name: 'contact-batches', Properties: benchQueueProperties },
        { Name: 'raw-send', Properties: benchQueueProperties },
      ]),
    );
    // The baseline: the same batches as messages, sent with the SDK's size-aware batches, nothing else.
    const client = new ServiceBusClient(broker.connectionString);
    const sender = client.createSender('raw-send');
    const batches = buildContactBatches({
      engagement,
      triggerId: 'raw',
      planned: plan.planned,
      maxContacts: 500,
      maxBodyBytes: await maxBodyBytesFor(sender),
      now,
    });
    let cpu = process.cpuUsage();
    t = performance.now();
    const raw = await publishContactBatches(sender, batches);
    const rawMs = performance.now() - t;
    const rawCpuMs = cpuMs(process.cpuUsage(cpu));
    await client.close();

    const dir = mkdtempSync(join(tmpdir(), 'bench-intake-'));
    writeFileSync(join(dir, 'engagements.json'), JSON.stringify(benchEngagementFile));
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
      const logs: string[] = [];
      const context = () => new InvocationContext({ logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
      cpu = process.cpuUsage();
      t = performance.now();
      const response = await segmentMembersFunction.handler(request(), context());
      const handlerMs = performance.now() - t;
      const handlerCpuMs = cpuMs(process.cpuUsage(cpu));
      const body = (response as { jsonBody?: { accepted?: number; batches?: number } }).jsonBody;
      const status = (response as { status?: number }).status;
      if (status !== 202) console.log(`handler answered ${status}: ${JSON.stringify(body)} ${logs.slice(-3).join(' | ')}`);
      t = performance.now();
      const retry = await segmentMembersFunction.handler(request(), context());
      const retryMs = performance.now() - t;

      console.log(`parse + validate (baseline)   ${ms(parseMs)}  ${rate(MEMBERS, parseMs)}`);
      console.log(`${describePlanning('plan (pure)', MEMBERS, repeatedPage)}; x${(planMs / parseMs).toFixed(2)} of parse`);
      console.log(describePlanning('plan (pure), all-distinct numbers', MEMBERS, distinctPage));
      console.log(
        `raw SDK batch send (baseline) ${ms(rawMs)}  ${rate(MEMBERS, rawMs)}  ${raw.sent + raw.scheduled} messages; app CPU ${rawCpuMs.toFixed(0)} ms`,
      );
      console.log(
        `handler -> broker + Azurite   ${ms(handlerMs)}  ${rate(MEMBERS, handlerMs)}  ${(rawMs / handlerMs).toFixed(2)}x the raw send's speed; status ${status}, accepted ${body?.accepted}, ${body?.batches} messages; app CPU ${handlerCpuMs.toFixed(0)} ms`,
      );
      console.log(`same page again (retry)       ${ms(retryMs)}  ${rate(MEMBERS, retryMs)}  status ${(retry as { status?: number }).status}`);
      for (const [label, r] of [
        ['10k', dnc10k],
        ['10M', dnc10m],
      ] as const) {
        console.log(
          `do-not-contact check, ${label} numbers listed: ${ms(r.ms)} for the page's ${dncKeys.length.toLocaleString('en-US')} numbers (HMAC + filter), ${r.hits} filter hits to confirm by point read; filter ${r.filterMiB.toFixed(1)} MiB, built in ${(r.buildMs / 1000).toFixed(1)} s`,
        );
      }
    } finally {
      await disposeApp();
      await broker.stop();
      await azurite.stop();
    }
  },
};

export default intake;
