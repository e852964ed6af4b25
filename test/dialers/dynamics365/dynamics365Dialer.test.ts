import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { isolateNetwork } from '../../support/isolateNetwork.js';
import { Dynamics365Dialer } from '../../../src/dialers/dynamics365/dynamics365Dialer.js';
import type { Dynamics365DialerOptionsInput } from '../../../src/dialers/dynamics365/dynamics365DialerOptions.js';
import { dynamicsRequestId } from '../../../src/dialers/dynamics365/dynamicsRequestId.js';
import { SystemError, UserError } from '../../../src/errors.js';
import { CONFIG_ID, aiLedRequest, plainRequest } from './dialRequests.js';
import { CLIENT_ID, type FakeEntra, fakeEntra } from './fakeEntra.js';

const ORG_URL = 'https://contoso.crm.dynamics.com';
const API = '/api/data/v9.2';
const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 40, maxTotalMs: 10_000, requestTimeoutMs: 2_000 };

interface Captured {
  readonly action: string;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

/** A recorded Dataverse answer: status, JSON body, headers. */
type Answer = readonly [number, unknown?, Record<string, string>?];

/** The OData error body Dataverse returns (shape recorded from the Web API documentation). */
function odataError(code: string, message: string) {
  return { error: { code, message } };
}

function createResponse(deliveryTaskId: string) {
  return {
    '@odata.context': `${ORG_URL}${API}/$metadata#Microsoft.Dynamics.CRM.CCaaS_CreateProactiveDeliveryResponse`,
    DeliveryTaskId: deliveryTaskId,
  };
}

/**
 * Fakes one Dataverse action: answers from `answers` in order (the last one repeats) and records
 * every request it received.
 */
function fakeAction(action: string, answers: readonly Answer[], captured: Captured[]): nock.Scope {
  let calls = 0;
  return nock(ORG_URL)
    .post(`${API}/${action}`)
    .reply(async (request: Request) => {
      const answer = answers[Math.min(calls, answers.length - 1)] ?? [500];
      calls += 1;
      captured.push({ action, headers: Object.fromEntries(request.headers), body: (await request.json()) as Record<string, unknown> });
      const [status, body, headers] = answer;
      const responseHeaders = { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0', ...headers };
      return [status, body === undefined ? '' : JSON.stringify(body), responseHeaders];
    })
    .persist();
}

let entra: FakeEntra;
const warnings: string[] = [];

function dialer(overrides: Partial<Dynamics365DialerOptionsInput> = {}): Dynamics365Dialer {
  return new Dynamics365Dialer({
    orgUrl: ORG_URL,
    credential: entra.credential,
    retry: FAST_RETRY,
    onWarning: (message) => warnings.push(message),
    random: () => 0.5,
    ...overrides,
  });
}

isolateNetwork();

afterEach(() => {
  warnings.length = 0;
});

describe('Dynamics365Dialer.dial', () => {
  it('single delivery: Entra token for {orgUrl}/.default, OData headers, Contacts as a JSON string, Windows zone', async () => {
    entra = fakeEntra();
    const captured: Captured[] = [];
    fakeAction('CCaaS_CreateProactiveDelivery', [[200, createResponse('68b36193-49cc-4749-8118-433a0e8c4b9a')]], captured);

    const submissions = await dialer().dial([aiLedRequest(7)]);

    expect(submissions).toEqual([{ deliveryId: 'dlv-0007', status: 'accepted', backendRef: 'deliveryTask:68b36193-49cc-4749-8118-433a0e8c4b9a' }]);
    expect(entra.tokenRequests).toEqual([{ clientId: CLIENT_ID, grantType: 'client_credentials', scope: `${ORG_URL}/.default` }]);
    expect(captured).toHaveLength(1);
    const [call] = captured;
    expect(call?.headers).toMatchObject({
      authorization: `Bearer ${entra.tokenFor(`${ORG_URL}/.default`)}`,
      'odata-version': '4.0',
      'odata-maxversion': '4.0',
      accept: 'application/json',
      'content-type': 'application/json; charset=utf-8',
    });
    expect(call?.body).toMatchObject({
      ApiVersion: '1.0',
      ProactiveEngagementConfigId: CONFIG_ID,
      RequestId: dynamicsRequestId('dlv-0007', 1),
      Priority: '3',
    });
    expect(typeof call?.body.Contacts).toBe('string');
    expect(JSON.parse(String(call?.body.Contacts))).toEqual([
      expect.objectContaining({
        uniqueIdentifier: 'c7a1e2d4-0000-4000-8000-000000000007',
        mobilePhoneNumber: '+14155550007',
        homePhoneNumber: '+16505550007',
        timezone: 'Pacific Standard Time',
        inputAttributes: { policyNumber: 'HO-2026-7', daysToRenewal: '14', vip: 'true' },
        windows: [
          { start: '2026-11-25T17:00:00.000Z', end: '2026-11-25T20:00:00.000Z' },
          { start: '2026-11-26T17:00:00.000Z', end: '2026-11-26T20:00:00.000Z' },
        ],
      }),
    ]);
  });

  it('plain deliveries go to CCaaS_CreateProactiveDeliveryBulkV2 in chunks; AI-led ones singly; results in input order', async () => {
    entra = fakeEntra();
    const bulkCalls: Captured[] = [];
    const singleCalls: Captured[] = [];
    const bulkResponse = { '@odata.context': `${ORG_URL}${API}/$metadata#Microsoft.Dynamics.CRM.CCaaS_CreateProactiveDeliveryBulkV2Response` };
    fakeAction('CCaaS_CreateProactiveDeliveryBulkV2', [[200, bulkResponse]], bulkCalls);
    fakeAction('CCaaS_CreateProactiveDelivery', [[200, createResponse('f47ac10b-58cc-4372-a567-0e02b2c3d479')]], singleCalls);
    const requests = [plainRequest(1), plainRequest(2), aiLedRequest(3), plainRequest(4), plainRequest(5)];

    const submissions = await dialer({ bulkChunkSize: 2 }).dial(requests);

    const records = (call: Captured) => JSON.parse(String(call.body.ProactiveDeliveries)) as Array<{ uniqueIdentifier: string }>;
    expect(bulkCalls.map((c) => records(c).map((r) => r.uniqueIdentifier.slice(-2)))).toEqual([
      ['01', '02'],
      ['04', '05'],
    ]);
    expect(bulkCalls.every((c) => typeof c.body.ProactiveDeliveries === 'string' && c.body.Priority === undefined)).toBe(true);
    expect(JSON.parse(String(bulkCalls[0]?.body.ProactiveDeliveries))[0]).toEqual({
      uniqueIdentifier: 'c7a1e2d4-0000-4000-8000-000000000001',
      firstName: 'Avery',
      lastName: 'Nguyen1',
      mobilePhoneNumber: '+14155550001',
      timeZone: 'Pacific Standard Time',
    });
    expect(singleCalls).toHaveLength(1);
    expect(submissions.map((s) => [s.deliveryId, s.status])).toEqual([
      ['dlv-0001', 'accepted'],
      ['dlv-0002', 'accepted'],
      ['dlv-0003', 'accepted'],
      ['dlv-0004', 'accepted'],
      ['dlv-0005', 'accepted'],
    ]);
    expect(submissions[0]).toEqual({ deliveryId: 'dlv-0001', status: 'accepted', backendRef: `bulk:${String(bulkCalls[0]?.body.RequestId)}` });
    expect(entra.tokenRequests).toHaveLength(1);
  });

  it('429 with Retry-After is honoured: the retry waits the server delay and carries the same RequestId', async () => {
    entra = fakeEntra();
    const captured: Captured[] = [];
    fakeAction(
      'CCaaS_CreateProactiveDelivery',
      [
        [429, odataError('0x80072322', 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.'), { 'Retry-After': '1' }],
        [200, createResponse('0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9')],
      ],
      captured,
    );
    const waits: number[] = [];
    const submissions = await dialer({ sleep: async (ms) => void waits.push(ms) }).dial([aiLedRequest(1)]);

    expect(submissions[0]?.status).toBe('accepted');
    expect(captured.map((c) => c.body.RequestId)).toEqual([dynamicsRequestId('dlv-0001', 1), dynamicsRequestId('dlv-0001', 1)]);
    // The backoff alone would be ~10 ms; only Retry-After explains a wait of a second.
    expect(waits).toEqual([1_000]);
  });

  it('5xx and a dropped connection are retried; a repeat of the same attempt is answered without a second D365 delivery', async () => {
    entra = fakeEntra();
    const captured: Captured[] = [];
    const record = async (request: Request) => {
      captured.push({ action: 'create', headers: {}, body: (await request.json()) as Record<string, unknown> });
    };
    // Interceptors answer in the order they were registered: 503, a reset connection, then success.
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .reply(async (request: Request) => {
        await record(request);
        return [503, odataError('0x80040216', 'An unexpected error occurred.')];
      });
    // An Error instance: nock 15 leaves fetch hanging on a plain-object error.
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .times(2)
      .reply(async (request: Request) => {
        await record(request);
        return [200, createResponse('2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b')];
      });
    const d365 = dialer();

    const first = await d365.dial([aiLedRequest(1)]);
    const repeat = await d365.dial([aiLedRequest(1)]);

    expect(first).toEqual([{ deliveryId: 'dlv-0001', status: 'accepted', backendRef: 'deliveryTask:2a3b4c5d-6e7f-4809-9a1b-2c3d4e5f6a7b' }]);
    expect(repeat).toEqual(first);
    expect(new Set(captured.map((c) => c.body.RequestId))).toEqual(new Set([dynamicsRequestId('dlv-0001', 1)]));
    expect(captured).toHaveLength(2);

    // A reattempt is a new delivery with its own RequestId.
    const reattempt = await d365.dial([aiLedRequest(1, { attempt: 2 })]);
    expect(reattempt[0]?.status).toBe('accepted');
    expect(captured.at(-1)?.body.RequestId).toBe(dynamicsRequestId('dlv-0001', 2));
  });

  it('the same delivery attempt twice in one call is sent once and answered for both', async () => {
    entra = fakeEntra();
    const captured: Captured[] = [];
    fakeAction('CCaaS_CreateProactiveDelivery', [[200, createResponse('7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d')]], captured);

    const submissions = await dialer().dial([aiLedRequest(1), aiLedRequest(1)]);

    expect(captured).toHaveLength(1);
    expect(submissions).toEqual([
      { deliveryId: 'dlv-0001', status: 'accepted', backendRef: 'deliveryTask:7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d' },
      { deliveryId: 'dlv-0001', status: 'accepted', backendRef: 'deliveryTask:7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d' },
    ]);
  });

  it('retries exhausted: a retryable SystemError, nothing accepted or remembered; the redelivery sends the same RequestId', async () => {
    entra = fakeEntra();
    const captured: Captured[] = [];
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .times(FAST_RETRY.maxAttempts)
      .reply(async (request: Request) => {
        captured.push({ action: 'create', headers: {}, body: (await request.json()) as Record<string, unknown> });
        return [503, JSON.stringify(odataError('0x80040216', 'Service unavailable')), { 'Content-Type': 'application/json' }];
      });
    let now = Date.parse('2026-11-25T15:00:00Z');
    const d365 = dialer({ now: () => now, faultPauseMs: 30_000 });

    const error = await d365.dial([aiLedRequest(1)]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SystemError);
    expect(error).toMatchObject({ code: 'DependencyFailed', retryable: true });
    expect((error as Error).message).toContain('Dataverse CCaaS_CreateProactiveDelivery failed after 4 tries');
    expect(captured).toHaveLength(4);

    // The 5xx burst pauses the organisation for faultPauseMs: an immediate redial sends nothing.
    const paused = await d365.dial([aiLedRequest(1)]).catch((e: unknown) => e);
    expect(paused).toMatchObject({ code: 'Throttled', retryable: true, retryAfterMs: 30_000 });
    expect(captured).toHaveLength(4);
    expect(await d365.throttledUntil(now)).toBe(now + 30_000);

    now += 30_000;
    fakeAction('CCaaS_CreateProactiveDelivery', [[200, createResponse('3c4d5e6f-7a8b-49c0-8d1e-2f3a4b5c6d7e')]], captured);
    const redelivered = await d365.dial([aiLedRequest(1)]);
    expect(redelivered[0]).toMatchObject({ status: 'accepted', backendRef: 'deliveryTask:3c4d5e6f-7a8b-49c0-8d1e-2f3a4b5c6d7e' });
    expect(captured).toHaveLength(5);
    expect(new Set(captured.map((c) => c.body.RequestId)).size).toBe(1);
  });

  it('throttling that outlasts the budget is a retryable Throttled SystemError carrying the server delay', async () => {
    entra = fakeEntra();
    const captured: Captured[] = [];
    fakeAction(
      'CCaaS_CreateProactiveDelivery',
      [[429, odataError('0x80072326', 'Combined execution time of incoming requests exceeded limit.'), { 'Retry-After': '300' }]],
      captured,
    );

    const error = await dialer()
      .dial([aiLedRequest(1)])
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'SystemError', code: 'Throttled', retryable: true, retryAfterMs: 300_000 });
    expect(captured).toHaveLength(1);
  });

  it('a 400 rejects that delivery with the OData message (phone number masked); the others are accepted', async () => {
    entra = fakeEntra();
    const captured: Captured[] = [];
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .times(2)
      .reply(async (request: Request) => {
        const body = (await request.json()) as { RequestId: string };
        captured.push({ action: 'create', headers: {}, body });
        if (body.RequestId === dynamicsRequestId('dlv-0002', 1)) {
          return [400, odataError('0x80040203', 'Invalid phone number +14155550002 for contact. Expected E.164 format.')];
        }
        return [200, createResponse('4d5e6f7a-8b9c-4ad0-9e1f-3a4b5c6d7e8f')];
      });

    const submissions = await dialer().dial([aiLedRequest(1), aiLedRequest(2)]);

    expect(submissions[0]).toMatchObject({ deliveryId: 'dlv-0001', status: 'accepted' });
    expect(submissions[1]).toEqual({
      deliveryId: 'dlv-0002',
      status: 'rejected',
      reason: 'Dynamics 365 refused the delivery (HTTP 400, 0x80040203): Invalid phone number +*********02 for contact. Expected E.164 format.',
    });
    expect(captured).toHaveLength(2);
  });

  it('a bulk chunk refused with 400 is resent singly, so only the bad delivery is rejected', async () => {
    entra = fakeEntra();
    const bulkCalls: Captured[] = [];
    const singleCalls: Captured[] = [];
    fakeAction('CCaaS_CreateProactiveDeliveryBulkV2', [[400, odataError('0x80040203', 'ProactiveDeliveries[1].mobilePhoneNumber is invalid.')]], bulkCalls);
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .times(3)
      .reply(async (request: Request) => {
        const body = (await request.json()) as { RequestId: string };
        singleCalls.push({ action: 'create', headers: {}, body });
        if (body.RequestId === dynamicsRequestId('dlv-0002', 1)) return [400, odataError('0x80040203', 'mobilePhoneNumber is invalid.')];
        return [200, createResponse(`5e6f7a8b-9c0d-4e1f-8a2b-00000000000${singleCalls.length}`)];
      });

    const submissions = await dialer().dial([plainRequest(1), plainRequest(2), plainRequest(3)]);

    expect(bulkCalls).toHaveLength(1);
    expect(singleCalls).toHaveLength(3);
    expect(submissions.map((s) => s.status)).toEqual(['accepted', 'rejected', 'accepted']);
    expect(warnings).toEqual([expect.stringContaining('sending them one by one')]);
  });

  it('an unmapped time zone and a missing dynamicsConfigId are rejected without calling Dataverse', async () => {
    entra = fakeEntra();
    // No Dataverse interceptor: any call would fail the test with a disallowed-net-connect error.
    const submissions = await dialer().dial([aiLedRequest(1, { contact: { timeZone: 'Antarctica/Troll' } }), aiLedRequest(2, { dynamicsConfigId: undefined })]);

    expect(submissions).toEqual([
      {
        deliveryId: 'dlv-0001',
        status: 'rejected',
        reason: 'contact.timeZone "Antarctica/Troll" has no Windows time zone mapping; Dynamics 365 accepts Windows time zone ids only',
      },
      { deliveryId: 'dlv-0002', status: 'rejected', reason: expect.stringContaining('set engagements[].dynamicsConfigId') },
    ]);
    expect(entra.tokenRequests).toEqual([]);
  });

  it('403 (no application user or role in Dataverse) stops the call with a non-retryable SystemError; nothing is rejected', async () => {
    entra = fakeEntra();
    fakeAction(
      'CCaaS_CreateProactiveDelivery',
      [[403, odataError('0x80040220', 'Principal user (Id=0e1d2c3b-4a59-4867-8756-a4b3c2d1e0f9) is missing prvCreatemsdyn_proactive_delivery privilege.')]],
      [],
    );

    const error = await dialer()
      .dial([aiLedRequest(1)])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SystemError);
    expect(error).toMatchObject({ code: 'DependencyFailed', retryable: false });
    expect((error as Error).message).toContain('Omnichannel agent or supervisor role');
  });
  it('a client secret Entra refuses is a non-retryable SystemError and nothing reaches Dataverse', async () => {
    entra = fakeEntra();
    nock.cleanAll();
    nock('https://login.microsoftonline.com')
      .post(/\/oauth2\/v2\.0\/token/)
      .query(true)
      .reply(401, {
        error: 'invalid_client',
        error_description:
          'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
        error_codes: [7000215],
        timestamp: '2026-11-25 14:00:00Z',
        trace_id: '0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9',
        correlation_id: '1c2d3e4f-5061-4728-9394-a5b6c7d8e9f0',
      });

    const error = await dialer()
      .dial([aiLedRequest(1)])
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'SystemError', code: 'DependencyFailed', retryable: false });
    expect((error as Error).message).toContain(`could not get a token for ${ORG_URL}/.default`);
  });
});

describe('Dynamics365Dialer.cancel', () => {
  it('cancels by the DeliveryTaskId D365 returned; ignores unknown ids, finished tasks and repeats; reports bulk ones', async () => {
    entra = fakeEntra();
    let taskNumber = 0;
    nock(ORG_URL)
      .post(`${API}/CCaaS_CreateProactiveDelivery`)
      .times(2)
      .reply(() => {
        taskNumber += 1;
        return [200, createResponse(`6f7a8b9c-0d1e-4f2a-9b3c-00000000000${taskNumber}`)];
      });
    fakeAction('CCaaS_CreateProactiveDeliveryBulkV2', [[200, {}]], []);
    const cancels: Captured[] = [];
    nock(ORG_URL)
      .post(`${API}/CCaaS_CancelDeliveryTask`)
      .times(2)
      .reply(async (request: Request) => {
        const body = (await request.json()) as { DeliveryTaskId: string };
        cancels.push({ action: 'cancel', headers: {}, body });
        // The second task already finished: D365 no longer knows it.
        if (body.DeliveryTaskId.endsWith('2')) return [404, odataError('0x80040217', `Delivery task ${body.DeliveryTaskId} does not exist.`)];
        return [204, ''];
      });
    const d365 = dialer();
    await d365.dial([aiLedRequest(1), aiLedRequest(2), plainRequest(3)]);

    await d365.cancel(['dlv-0001', 'dlv-0002', 'dlv-0003', 'never-dialled', 'dlv-0001']);
    await d365.cancel(['dlv-0001']);

    expect(cancels.map((c) => c.body).sort((a, b) => String(a.DeliveryTaskId).localeCompare(String(b.DeliveryTaskId)))).toEqual([
      { ApiVersion: '1.0', DeliveryTaskId: '6f7a8b9c-0d1e-4f2a-9b3c-000000000001' },
      { ApiVersion: '1.0', DeliveryTaskId: '6f7a8b9c-0d1e-4f2a-9b3c-000000000002' },
    ]);
    expect([...warnings].sort()).toEqual([
      expect.stringContaining('Dynamics 365 did not cancel delivery dlv-0002 (HTTP 404): Delivery task'),
      expect.stringMatching(/^delivery dlv-0003 was sent in bulk \(bulk:[0-9a-f-]{36}\)/),
    ]);
  });
});

describe('Dynamics365Dialer options', () => {
  it.each([
    [{ orgUrl: 'http://contoso.crm.dynamics.com' }, 'orgUrl'],
    [{ orgUrl: 'https://contoso.crm.dynamics.com/api/data/v9.2' }, 'orgUrl: give the organization URL only'],
    [{ bulkChunkSize: 20_000 }, 'bulkChunkSize'],
    [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ credential: { token: 'not-a-credential' } }, 'credential: expected a TokenCredential'],
  ])('rejects %j naming the field', (override, field) => {
    entra = fakeEntra();
    const build = () => new Dynamics365Dialer({ orgUrl: ORG_URL, credential: entra.credential, ...(override as object) });
    expect(build).toThrow(UserError);
    expect(build).toThrow(field);
  });
});
