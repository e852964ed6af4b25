import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { Dynamics365Dialer } from '../../../src/dialers/dynamics365/dynamics365Dialer.js';
import { bulkRequestId, dynamicsRequestId } from '../../../src/dialers/dynamics365/dynamicsRequestId.js';
import { InMemoryThrottleStore } from '../../../src/dialers/dynamics365/throttleStore.js';
import { isolateNetwork } from '../../support/isolateNetwork.js';
import { aiLedRequest, plainRequest } from './dialRequests.js';
import { fakeEntra } from './fakeEntra.js';

const ORG_URL = 'https://contoso.crm.dynamics.com';
const API = '/api/data/v9.2';
const NOW = Date.parse('2026-11-25T15:00:00Z');
const FAST_RETRY = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxTotalMs: 60_000, requestTimeoutMs: 2_000 };
const TASK_ID = '3c4d5e6f-7a8b-49c0-8d1e-2f3a4b5c6d7e';
const JSON_HEADERS = { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0' };

isolateNetwork();

/** A msdyn_proactive_deliveries row as the Web API returns it with $select (elastic table: every column a string). */
function row(fields: Record<string, string | number | null>) {
  return {
    '@odata.etag': 'W/"1234567"',
    msdyn_delivery_id: `d-${String(fields['msdyn_seq_no'] ?? 0)}`,
    msdyn_tracking_id: null,
    msdyn_batch_id: null,
    msdyn_contact_id: null,
    msdyn_status: 'Pending',
    msdyn_result: null,
    msdyn_result_date: null,
    msdyn_sip_diagnostics: null,
    msdyn_disposition_codes: null,
    msdyn_seq_no: 0,
    ...fields,
  };
}

interface Query {
  readonly filter: string;
  readonly prefer: string | null;
  readonly skiptoken: string | null;
  readonly url: string;
}

/** Dynamics 365 accepting three singles (one with a task id) and one bulk of two, then answering queries from `answer`. */
async function submitted(answer: (q: Query) => unknown, taskAnswer?: unknown) {
  const entra = fakeEntra();
  nock(ORG_URL)
    .post(`${API}/CCaaS_CreateProactiveDelivery`)
    .reply(200, { DeliveryTaskId: TASK_ID }, JSON_HEADERS)
    .post(`${API}/CCaaS_CreateProactiveDelivery`)
    .times(2)
    .reply(204, '')
    .post(`${API}/CCaaS_CreateProactiveDeliveryBulkV2`)
    .reply(204, '');
  const queries: Query[] = [];
  nock(ORG_URL)
    .get(`${API}/msdyn_proactive_deliveries`)
    .query(true)
    .reply((request: Request) => {
      const url = new URL(request.url);
      const q = {
        filter: url.searchParams.get('$filter') ?? '',
        prefer: request.headers.get('prefer'),
        skiptoken: url.searchParams.get('$skiptoken'),
        url: request.url,
      };
      queries.push(q);
      return [200, answer(q), JSON_HEADERS];
    })
    .persist();
  const taskReads: string[] = [];
  nock(ORG_URL)
    .get(new RegExp(`^${API}/CCaaS_GetDeliveryTasks\\(DeliveryTaskId=[0-9a-f-]+\\)$`))
    .reply((request: Request) => {
      taskReads.push(new URL(request.url).pathname);
      return [200, taskAnswer ?? { value: [] }, JSON_HEADERS];
    })
    .persist();
  const throttle = new InMemoryThrottleStore();
  const dialer = new Dynamics365Dialer({
    orgUrl: ORG_URL,
    credential: entra.credential,
    retry: FAST_RETRY,
    random: () => 0.5,
    throttleStore: throttle,
    now: () => NOW,
  });
  const requests = [aiLedRequest(1), aiLedRequest(2), aiLedRequest(3, { attempt: 2 }), plainRequest(4), plainRequest(5)];
  await dialer.dial(requests);
  const inFlight = requests.map((r) => ({ engagementId: r.engagementId, deliveryId: r.deliveryId, attempt: r.attempt, since: NOW - 60_000 }));
  return { dialer, requests, inFlight, queries, taskReads, throttle };
}

describe('Dynamics365Dialer.pollOutcomes', () => {
  it('finds singles by RequestId and bulk members by batch and contact id, follows every page, maps status, Result and SIP code', async () => {
    const single = (n: number, attempt = 1) => dynamicsRequestId(`dlv-${String(n).padStart(4, '0')}`, attempt);
    const contact = (n: number) => `c7a1e2d4-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const batch = bulkRequestId([
      { deliveryId: 'dlv-0004', attempt: 1 },
      { deliveryId: 'dlv-0005', attempt: 1 },
    ]);
    const { dialer, inFlight, queries } = await submitted((q) => {
      if (q.filter.includes('msdyn_tracking_id')) {
        // Two pages: the first carries the nextLink with a paging cookie, as Dataverse does.
        if (q.skiptoken === null) {
          return {
            value: [
              row({
                msdyn_tracking_id: single(1),
                msdyn_status: 'Complete',
                msdyn_result: 'LiveAnswer',
                msdyn_result_date: '2026-11-25T14:59:00Z',
                msdyn_seq_no: 1,
              }),
            ],
            // Dataverse's nextLink repeats the query and adds the paging cookie.
            '@odata.nextLink': `${q.url}&$skiptoken=%3Ccookie%20page=%222%22%20/%3E`,
          };
        }
        return {
          value: [
            row({ msdyn_tracking_id: single(2), msdyn_status: 'InProcess', msdyn_seq_no: 2 }),
            row({ msdyn_tracking_id: single(3, 2), msdyn_status: 'Error', msdyn_sip_diagnostics: 'SIP 404 Not Found', msdyn_seq_no: 3 }),
          ],
        };
      }
      return {
        value: [
          row({
            msdyn_batch_id: batch,
            msdyn_contact_id: contact(4),
            msdyn_status: 'Complete',
            msdyn_result: 'NoAnswer',
            msdyn_sip_diagnostics: '486',
            msdyn_seq_no: 4,
          }),
          row({ msdyn_batch_id: batch, msdyn_contact_id: contact(5), msdyn_status: 'Expired', msdyn_seq_no: 5 }),
        ],
      };
    });

    const events = await dialer.pollOutcomes(inFlight, NOW);

    expect(events.sort((a, b) => a.deliveryId.localeCompare(b.deliveryId))).toEqual([
      { engagementId: 'policy-renewal-reminders', deliveryId: 'dlv-0001', attempt: 1, result: 'LiveAnswer', at: '2026-11-25T14:59:00.000Z' },
      { engagementId: 'policy-renewal-reminders', deliveryId: 'dlv-0003', attempt: 2, result: 'InvalidAddress', at: '2026-11-25T15:00:00.000Z', sipCode: 404 },
      { engagementId: 'policy-renewal-reminders', deliveryId: 'dlv-0004', attempt: 1, result: 'Busy', at: '2026-11-25T15:00:00.000Z', sipCode: 486 },
      { engagementId: 'policy-renewal-reminders', deliveryId: 'dlv-0005', attempt: 1, result: 'Expired', at: '2026-11-25T15:00:00.000Z' },
    ]);
    // One In() query for the three singles (two pages), one for the bulk's batch.
    expect(queries.map((q) => q.filter)).toEqual([
      `Microsoft.Dynamics.CRM.In(PropertyName='msdyn_tracking_id',PropertyValues=['${single(1)}','${single(2)}','${single(3, 2)}'])`,
      `Microsoft.Dynamics.CRM.In(PropertyName='msdyn_tracking_id',PropertyValues=['${single(1)}','${single(2)}','${single(3, 2)}'])`,
      `Microsoft.Dynamics.CRM.In(PropertyName='msdyn_batch_id',PropertyValues=['${batch}'])`,
    ]);
    expect(queries[0]?.prefer).toBe('odata.maxpagesize=5000');
    expect(dialer.reconcileCounts).toEqual({ queries: 2, pages: 3, taskReads: 0 });
  });

  it('a completed row without a Result asks CCaaS_GetDeliveryTasks, whose last delivery says more', async () => {
    const { dialer, inFlight, taskReads } = await submitted(
      (q) =>
        q.filter.includes('msdyn_tracking_id')
          ? { value: [row({ msdyn_tracking_id: dynamicsRequestId('dlv-0001', 1), msdyn_status: 'Complete' })] }
          : { value: [] },
      {
        value: [
          {
            deliveryTaskId: TASK_ID,
            requestId: dynamicsRequestId('dlv-0001', 1),
            status: 'Complete',
            customerReached: false,
            retryCount: 1,
            maxRetryCount: 3,
            lastAttemptedTime: '2026-11-25T14:55:00Z',
            deliveries: [
              { id: 'a', status: 'Complete', result: 'NoAnswer' },
              { id: 'b', status: 'Complete', result: 'AnsweringMachine' },
            ],
            contactChainingStatus: { currentContactIdAttempted: 'x', isChainExhausted: true, lastDeliveryResult: 'AnsweringMachine' },
          },
        ],
      },
    );

    const events = await dialer.pollOutcomes(inFlight.slice(0, 1), NOW);

    expect(taskReads).toEqual([`${API}/CCaaS_GetDeliveryTasks(DeliveryTaskId=${TASK_ID})`]);
    expect(events).toEqual([
      { engagementId: 'policy-renewal-reminders', deliveryId: 'dlv-0001', attempt: 1, result: 'AnsweringMachine', at: '2026-11-25T14:55:00.000Z' },
    ]);
  });

  it('an attempt the refs say was replaced by a later one is not reported (its row belongs to the later attempt)', async () => {
    const { dialer, inFlight, queries } = await submitted(() => ({ value: [] }));
    const events = await dialer.pollOutcomes([{ ...inFlight[0]!, attempt: 7 }], NOW);
    expect(events).toEqual([]);
    expect(queries).toEqual([]);
  });

  it('a 429 on the query is remembered: the next dial or reconcile on any tick waits for Retry-After without calling', async () => {
    const entra = fakeEntra();
    let calls = 0;
    nock(ORG_URL)
      .get(`${API}/msdyn_proactive_deliveries`)
      .query(true)
      .reply(() => {
        calls++;
        return [
          429,
          { error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.' } },
          { 'Retry-After': '120' },
        ];
      })
      .persist();
    const throttle = new InMemoryThrottleStore();
    const options = { orgUrl: ORG_URL, credential: entra.credential, retry: { ...FAST_RETRY, maxTotalMs: 1_000 }, throttleStore: throttle, now: () => NOW };
    const first = new Dynamics365Dialer(options);
    const inFlight = [{ engagementId: 'e', deliveryId: 'dlv-0001', attempt: 1, since: NOW }];

    await expect(first.pollOutcomes(inFlight, NOW)).rejects.toMatchObject({ code: 'Throttled', retryable: true });
    expect(calls).toBe(1);
    expect(await throttle.get()).toEqual({ until: NOW + 120_000, reason: 'HTTP 429 service protection limit' });

    // Another instance sharing the store: refused before any request.
    const second = new Dynamics365Dialer(options);
    await expect(second.dial([plainRequest(9)])).rejects.toMatchObject({ code: 'Throttled', retryAfterMs: 120_000 });
    await expect(second.pollOutcomes(inFlight, NOW)).rejects.toMatchObject({ code: 'Throttled' });
    expect(calls).toBe(1);
    expect(await second.throttledUntil(NOW)).toBe(NOW + 120_000);
    expect(await second.throttledUntil(NOW + 120_000)).toBeUndefined();
  });
});
