import nock from 'nock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataverseClient } from '../../src/dialers/dynamics365/dataverseClient.js';
import { drainJourneyOutbox, type JourneyOutboxDeps } from '../../src/journeyOutcomes/drainJourneyOutbox.js';
import type { JourneyOutcome } from '../../src/journeyOutcomes/journeyOutcome.js';
import { JourneyOutboxStore } from '../../src/store/journeyOutcomes/journeyOutboxStore.js';
import { fakeEntra } from '../dialers/dynamics365/fakeEntra.js';
import { isolateNetwork } from '../support/isolateNetwork.js';
import { testTables } from '../support/tables.js';

isolateNetwork();
beforeAll(() => {
  // Azurite is local and real; only Dataverse and Entra are faked.
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});

const ORG = 'https://contoso.crm.dynamics.com';
const TRIGGER = 'msdynmkt_proactivecallcompleted';
const START = Date.parse('2026-11-29T15:00:00.000Z');

function outcome(engagementId: string, n: number, extra: Partial<JourneyOutcome> = {}): JourneyOutcome {
  return {
    engagementId,
    deliveryId: `d-${n}`,
    triggerName: TRIGGER,
    contactId: `6f0d1c2b-3a4e-4f5d-8e6f-${String(n).padStart(12, '0')}`,
    journeyId: 'c3a1e2d4-5b6f-4e7a-8b9c-0d1e2f3a4b5c',
    result: 'LiveAnswer',
    attempts: 2,
    disposition: 'callback',
    callbackAt: '2026-11-30T10:00:00.000Z',
    endedAt: '2026-11-29T14:59:30.000Z',
    echoed: { policynumber: 'P-20931' },
    ...extra,
  };
}

let now = START;
let deps: JourneyOutboxDeps;
let received: { path: string; body: Record<string, unknown>; auth: string | undefined }[];
let engagementId: string;

beforeEach(() => {
  now = START;
  received = [];
  engagementId = `e${Math.random().toString(36).slice(2, 8)}`;
  const entra = fakeEntra();
  deps = {
    outbox: new JourneyOutboxStore(testTables()),
    dataverse: new DataverseClient({
      orgUrl: ORG,
      credential: entra.credential,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000, requestTimeoutMs: 5_000 },
    }),
    clock: () => now,
    maxAttempts: 3,
    claimMs: 60_000,
    batchSize: 50,
    random: () => 0,
    log: () => undefined,
  };
});

/** Dataverse answering each custom-trigger call with `status` (204 by default), recording what it got. */
function dataverse(times: number, status = 204, headers: Record<string, string> = {}, body = '') {
  nock(ORG)
    .post(`/api/data/v9.2/${TRIGGER}`)
    .times(times)
    .reply(async (request: Request) => {
      received.push({
        path: new URL(request.url).pathname,
        body: (await request.json()) as Record<string, unknown>,
        auth: request.headers.get('authorization') ?? undefined,
      });
      return [status, body, headers];
    });
}

describe('journey outcome outbox', () => {
  it('sends one custom-trigger call per ended delivery with the exact Dataverse request shape, once', async () => {
    expect(await deps.outbox.enqueue(outcome(engagementId, 1), now)).toBe('enqueued');
    expect(await deps.outbox.enqueue(outcome(engagementId, 1), now)).toBe('exists');
    dataverse(1);
    expect(await drainJourneyOutbox(deps)).toEqual({ sent: 1, rescheduled: 0, failed: 0, stoppedEarly: false });
    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe(`/api/data/v9.2/${TRIGGER}`);
    expect(received[0]?.auth).toMatch(/^Bearer ey/);
    expect(received[0]?.body).toEqual({
      msdynmkt_signaltimestamp: '2026-11-29T14:59:30.000Z',
      msdynmkt_signalingestiontimestamp: '2026-11-29T15:00:00.000Z',
      msdynmkt_signaluserauthid: '6f0d1c2b-3a4e-4f5d-8e6f-000000000001',
      msdynmkt_profileid: '6f0d1c2b-3a4e-4f5d-8e6f-000000000001',
      msdynmkt_journeyid: 'c3a1e2d4-5b6f-4e7a-8b9c-0d1e2f3a4b5c',
      msdynmkt_result: 'LiveAnswer',
      msdynmkt_attempts: 2,
      msdynmkt_disposition: 'callback',
      msdynmkt_callbackat: '2026-11-30T10:00:00.000Z',
      msdynmkt_deliveryid: 'd-1',
      msdynmkt_engagementid: engagementId,
      msdynmkt_policynumber: 'P-20931',
    });
    now += 3_600_000;
    expect(await drainJourneyOutbox(deps)).toMatchObject({ sent: 0 });
    expect(await deps.outbox.summary(engagementId)).toMatchObject({ pending: 0, sent: 1, failed: 0 });
  });

  it('a 429 waits out Retry-After and holds back the rest of the drain', async () => {
    await deps.outbox.enqueue(outcome(engagementId, 1), now);
    await deps.outbox.enqueue(outcome(engagementId, 2), now + 1);
    now += 10;
    dataverse(1, 429, { 'Retry-After': '120' }, JSON.stringify({ error: { code: '0x80072322', message: 'Number of requests exceeded the limit' } }));
    expect(await drainJourneyOutbox(deps)).toEqual({ sent: 0, rescheduled: 1, failed: 0, stoppedEarly: true });
    expect(received).toHaveLength(1);
    now += 119_000;
    dataverse(2);
    expect(await drainJourneyOutbox(deps)).toMatchObject({ sent: 1 });
    now += 1_000;
    expect(await drainJourneyOutbox(deps)).toMatchObject({ sent: 1 });
    expect(received.map((r) => r.body['msdynmkt_deliveryid'])).toEqual(['d-1', 'd-2', 'd-1']);
    expect(await deps.outbox.summary(engagementId)).toMatchObject({ sent: 2, pending: 0 });
  });

  it('a refusal (400) fails the row at once and shows in the summary with the error', async () => {
    await deps.outbox.enqueue(outcome(engagementId, 7), now);
    dataverse(
      1,
      400,
      { 'Content-Type': 'application/json' },
      JSON.stringify({ error: { code: '0x80040217', message: 'msdynmkt_attempts: expected Edm.String' } }),
    );
    expect(await drainJourneyOutbox(deps)).toMatchObject({ failed: 1 });
    const summary = await deps.outbox.summary(engagementId);
    expect(summary).toMatchObject({ failed: 1, sent: 0, pending: 0 });
    expect(summary.recentFailures[0]).toMatchObject({ deliveryId: 'd-7' });
    expect(summary.recentFailures[0]?.error).toContain('HTTP 400 0x80040217');
  });

  it('a drain that died mid-send leaves a claim; once it expires the outcome is sent (never lost)', async () => {
    await deps.outbox.enqueue(outcome(engagementId, 3), now);
    const [row] = await deps.outbox.due(now, 10);
    if (row === undefined) throw new Error('nothing due');
    expect(await deps.outbox.claim(row, now, deps.claimMs)).toBeDefined();
    dataverse(1);
    now += deps.claimMs - 1;
    expect(await drainJourneyOutbox(deps)).toMatchObject({ sent: 0 });
    now += 1;
    expect(await drainJourneyOutbox(deps)).toMatchObject({ sent: 1 });
    expect(received).toHaveLength(1);
  });

  it('two drains at once send each outcome once', async () => {
    for (let i = 0; i < 6; i++) await deps.outbox.enqueue(outcome(engagementId, 10 + i), now);
    dataverse(12);
    const [a, b] = await Promise.all([drainJourneyOutbox(deps), drainJourneyOutbox(deps)]);
    expect((a?.sent ?? 0) + (b?.sent ?? 0)).toBe(6);
    expect(received.map((r) => r.body['msdynmkt_deliveryid']).sort()).toEqual(['d-10', 'd-11', 'd-12', 'd-13', 'd-14', 'd-15']);
  });
});
