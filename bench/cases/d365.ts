/**
 * `npm run bench d365`: the dynamics365 dialer against the local Dataverse stand-in (real HTTP on
 * loopback, token checks included).
 * - Submission: 2,000 deliveries handed over through dial() singly (CCaaS_CreateProactiveDelivery,
 *   the baseline) and in bulk (CCaaS_CreateProactiveDeliveryBulkV2, chunks of 1,000): deliveries/s.
 * - Reconciliation: 1,000 deliveries in flight (500 single, 500 bulk) read back through pollOutcomes():
 *   Dataverse requests and wall time, against the baseline of one CCaaS_GetDeliveryTasks per delivery.
 */
import type { BenchCase } from '../run.js';
import { startDataverseStandIn } from '../../dev/dataverse/dataverseStandIn.js';
import type { DialRequest } from '../../src/dialers/dialerPort.js';
import { Dynamics365Dialer } from '../../src/dialers/dynamics365/dynamics365Dialer.js';
import { LocalStandInCredential } from '../../src/dialers/dynamics365/localStandInCredential.js';

const KEY = 'bench-only-stand-in-key-0123456789';
const CONFIG_ID = '47089bbe-deb7-4f11-b8e6-000d3a36a6b3';
const AT = new Date('2026-11-25T15:00:00Z').toISOString();

function request(i: number, withAttributes: boolean): DialRequest {
  return {
    deliveryId: `bench-${i}`,
    attempt: 1,
    engagementId: 'e',
    dynamicsConfigId: CONFIG_ID,
    priority: 1,
    contact: {
      contactId: `contact-${i}`,
      firstName: 'Ada',
      lastName: `L${i}`,
      phones: [{ type: 'mobile', e164: `+1212${String(5_000_000 + i)}` }],
      timeZone: 'America/New_York',
      attributes: withAttributes ? { segment: 'renewals' } : {},
      windows: [],
    },
  };
}

async function run(): Promise<void> {
  const standIn = await startDataverseStandIn({
    tokenKey: KEY,
    configs: [
      {
        msdyn_proactive_engagement_configid: CONFIG_ID,
        msdyn_name: 'bench',
        msdyn_dial_mode: 'Progressive',
        msdyn_primary_queue: 'q',
        msdyn_max_calls_per_representative: 1,
        engagementId: 'e',
      },
    ],
    // Every call ends at once as LiveAnswer, so reconciliation finds ended rows.
    telephony: { place: (_call, report) => report({ result: 'LiveAnswer', at: AT }) },
  });
  try {
    const dialer = (useBulk: boolean) => new Dynamics365Dialer({ orgUrl: standIn.url, credential: new LocalStandInCredential(KEY), useBulk, concurrency: 4 });
    const count = 2_000;
    const singles = Array.from({ length: count }, (_, i) => request(i, true));
    let started = performance.now();
    await dialer(false).dial(singles);
    const singleRate = count / ((performance.now() - started) / 1000);
    const plain = Array.from({ length: count }, (_, i) => request(count + i, false));
    started = performance.now();
    await dialer(true).dial(plain);
    const bulkRate = count / ((performance.now() - started) / 1000);
    console.log(
      `submission: single ${singleRate.toFixed(0)} deliveries/s (baseline); bulk ${bulkRate.toFixed(0)} deliveries/s (x${(bulkRate / singleRate).toFixed(1)})`,
    );

    // 1,000 in flight: 500 sent singly, 500 in bulk; their refs are in this dialer's memory.
    const reconciler = new Dynamics365Dialer({ orgUrl: standIn.url, credential: new LocalStandInCredential(KEY), concurrency: 4 });
    const mixed = [...Array.from({ length: 500 }, (_, i) => request(10_000 + i, true)), ...Array.from({ length: 500 }, (_, i) => request(20_000 + i, false))];
    await reconciler.dial(mixed);
    const inFlight = mixed.map((r) => ({ engagementId: 'e', deliveryId: r.deliveryId, attempt: 1, since: Date.now() }));
    const before = { ...standIn.stats, requests: { ...standIn.stats.requests } };
    started = performance.now();
    const events = await reconciler.pollOutcomes(inFlight, Date.now());
    const reconcileMs = performance.now() - started;
    const requests = standIn.stats.requests.ok - before.requests.ok;
    // Baseline: one CCaaS_GetDeliveryTasks per delivery (the only per-task read D365 documents).
    const taskIds = standIn.rows.filter((r) => r.taskId !== null).slice(0, 200);
    started = performance.now();
    const token = (await new LocalStandInCredential(KEY).getToken(`${standIn.url}/.default`)).token;
    for (const row of taskIds) {
      await fetch(`${standIn.url}/api/data/v9.2/CCaaS_GetDeliveryTasks(DeliveryTaskId=${row.taskId})`, { headers: { Authorization: `Bearer ${token}` } }).then(
        (r) => r.text(),
      );
    }
    const perTaskMs = ((performance.now() - started) / taskIds.length) * 1000;
    console.log(
      `reconciliation of 1,000 in flight: ${requests} Dataverse requests (${reconciler.reconcileCounts.queries} queries, ${reconciler.reconcileCounts.pages} pages, ${reconciler.reconcileCounts.taskReads} task reads), ` +
        `${events.length} outcomes, ${reconcileMs.toFixed(0)} ms; baseline one CCaaS_GetDeliveryTasks per delivery: 1000 requests, ~${perTaskMs.toFixed(0)} ms ` +
        `(x${(1000 / Math.max(1, requests)).toFixed(0)} fewer requests, x${(perTaskMs / Math.max(1, reconcileMs)).toFixed(1)} faster)`,
    );
  } finally {
    await standIn.stop();
  }
}

const bench: BenchCase = { name: 'd365', description: 'Dynamics 365 submissions and reconciliation through the local Dataverse stand-in', run };
export default bench;
