import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { contactInputSchema } from '../../src/contacts/contactInput.js';
import { signCallEvents } from '../../src/dispatch/callEventsSignature.js';
import { callEventsHandler } from '../../src/dispatch/dispatchHttp.js';
import { recordOutcome, type OutcomeDeps } from '../../src/dispatch/recordOutcome.js';
import { planDeliveries } from '../../src/planning/planDeliveries.js';
import { DoNotContactStore } from '../../src/store/contacts/doNotContactStore.js';
import { FrequencyLedgerStore } from '../../src/store/contacts/frequencyLedgerStore.js';
import { PendingContactStore } from '../../src/store/contacts/pendingContactStore.js';
import { DeliveryStore } from '../../src/store/dispatch/deliveryStore.js';
import { OutcomeStore } from '../../src/store/dispatch/outcomeStore.js';
import { testTables } from '../support/tables.js';
import { oneQueueCatalog } from '../support/engagements.js';

const START = Date.parse('2026-11-25T15:00:00Z');
const SECRET = 'a-call-events-signing-secret-of-32+chars';
const catalog = oneQueueCatalog();

async function world() {
  const tables = testTables();
  let now = START;
  const deps: OutcomeDeps = {
    catalog,
    deliveries: new DeliveryStore(tables),
    outcomes: new OutcomeStore(tables, () => now),
    ledger: new FrequencyLedgerStore(tables),
    doNotContact: new DoNotContactStore(tables, 0),
    pending: new PendingContactStore(tables),
    clock: () => now,
  };
  const engagement = catalog.engagements.get('e');
  const queue = catalog.queues.get('q');
  if (engagement === undefined || queue === undefined) throw new Error('fixture');
  const [planned] = planDeliveries({
    engagement,
    queue,
    triggerId: 't-guard',
    now: START,
    state: { isDoNotContact: () => false, recentEngagements: () => [], pendingTrigger: () => undefined },
    contacts: [
      {
        source: 'event:g1',
        contact: contactInputSchema.parse({
          contactId: 'g1',
          phones: { mobile: '+12125550100' },
          windows: [{ start: new Date(START).toISOString(), end: new Date(START + 8 * 3_600_000).toISOString() }],
        }),
      },
    ],
  }).planned;
  if (planned === undefined) throw new Error('fixture');
  await deps.deliveries.storeContacts('e', 't-guard', [planned.contact], START);
  const contact = planned.contact;
  const claim = async () => {
    const [row] = await deps.deliveries.queued('e', 1);
    if (row === undefined) throw new Error('nothing queued');
    await deps.deliveries.claim('e', row, now);
  };
  /** Everything an outcome could change, to show a refused one changed nothing. */
  const snapshot = async () => ({
    delivery: await deps.deliveries.get('e', contact.deliveryId),
    outcomes: await deps.outcomes.since('e', 0),
    dnc: [...(await deps.doNotContact.matching([`contact:${contact.contactId}`, ...contact.phones.map((p) => p.e164)]))],
    ledger: await deps.ledger.recent([contact.contactId], now),
  });
  const event = (overrides: Partial<CallEvent> = {}): CallEvent => ({
    engagementId: 'e',
    deliveryId: contact.deliveryId,
    attempt: 1,
    result: 'LiveAnswer',
    at: new Date(now).toISOString(),
    disposition: 'do-not-contact',
    ...overrides,
  });
  return { deps, claim, snapshot, event, advance: (ms: number) => (now += ms) };
}

describe('outcome acceptance guard', () => {
  it('an outcome for an attempt never dialed is refused and changes nothing (no do-not-contact, no ledger, no record)', async () => {
    const w = await world();
    const before = await w.snapshot();
    expect(await recordOutcome(w.deps, w.event())).toEqual({ status: 'refused', reason: 'not-in-flight' });
    expect(await w.snapshot()).toEqual(before);
  });

  it('an outcome dated 2099 is refused as implausible, even for the attempt in flight', async () => {
    const w = await world();
    await w.claim();
    const before = await w.snapshot();
    expect(await recordOutcome(w.deps, w.event({ at: '2099-01-01T00:00:00Z' }))).toMatchObject({ status: 'refused', reason: 'implausible-time' });
    expect(await w.snapshot()).toEqual(before);
  });

  it('an outcome for a later attempt than the one in flight is refused', async () => {
    const w = await world();
    await w.claim();
    expect(await recordOutcome(w.deps, w.event({ attempt: 2 }))).toEqual({ status: 'refused', reason: 'not-in-flight' });
  });

  it('the attempt in flight is recorded; a later report of that attempt still completes it; a report after it ended without a record is refused', async () => {
    const w = await world();
    await w.claim();
    w.advance(30_000);
    expect(await recordOutcome(w.deps, w.event({ disposition: 'interested' }))).toMatchObject({ status: 'recorded' });
    w.advance(1_000);
    expect(await recordOutcome(w.deps, w.event({ disposition: undefined, waitSeconds: 12 }))).toEqual({ status: 'merged' });
    expect((await w.deps.outcomes.since('e', 0)).events).toEqual([expect.objectContaining({ disposition: 'interested', waitSeconds: 12 })]);
  });
});

describe('POST /api/call-events credential', () => {
  const post = (body: string, headers: Record<string, string>, now: number, record: OutcomeDeps | undefined = undefined) => {
    const calls: CallEvent[] = [];
    const handler = callEventsHandler(() =>
      Promise.resolve({
        catalog,
        maxEvents: 10,
        clock: () => now,
        signingSecret: SECRET,
        record: async (e: CallEvent) => {
          calls.push(e);
          return record === undefined ? { status: 'recorded' as const, next: 'done' } : recordOutcome(record, e);
        },
      }),
    );
    const request = new HttpRequest({ method: 'POST', url: 'http://localhost/api/call-events', body: { string: body }, headers });
    return handler(request, new InvocationContext({ logHandler: () => undefined })).then((response) => ({ response, calls }));
  };
  const body = JSON.stringify([{ engagementId: 'e', deliveryId: 'd-1', attempt: 1, result: 'NoAnswer', at: new Date(START - 60_000).toISOString() }]);
  const t = Math.floor(START / 1000);

  it('a correctly signed request is accepted', async () => {
    const { response, calls } = await post(body, { 'x-call-events-signature': signCallEvents(SECRET, t, body) }, START);
    expect(response.status).toBe(202);
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['unsigned', {}],
    ['signed with another secret', { 'x-call-events-signature': signCallEvents('another-secret-of-at-least-32-chars!!', t, body) }],
    ['signed over another body', { 'x-call-events-signature': signCallEvents(SECRET, t, `${body} `) }],
    ['a malformed header', { 'x-call-events-signature': 'sha256=abc' }],
    ['replayed ten minutes later', { 'x-call-events-signature': signCallEvents(SECRET, t - 600, body) }],
  ])('%s: 401, nothing recorded, the secret never echoed', async (_name, headers: Record<string, string>) => {
    const { response, calls } = await post(body, headers, START);
    expect(response.status).toBe(401);
    expect(response.jsonBody).toMatchObject({ error: 'Unauthorized' });
    expect(JSON.stringify(response.jsonBody)).not.toContain(SECRET);
    expect(calls).toHaveLength(0);
  });

  it('a signed request whose only event is for an attempt not in flight is a 409 and changes nothing', async () => {
    const w = await world();
    const forged = JSON.stringify([w.event()]);
    const before = await w.snapshot();
    const { response } = await post(forged, { 'x-call-events-signature': signCallEvents(SECRET, t, forged) }, START, w.deps);
    expect(response.status).toBe(409);
    expect(response.jsonBody).toMatchObject({ error: 'OutcomeRefused', issues: [{ path: '[0]', message: 'not-in-flight' }] });
    expect(await w.snapshot()).toEqual(before);
  });

  it('one event with an implausible time or a delivery id Table keys forbid fails the whole request with 400 before any is recorded', async () => {
    const events = [
      { engagementId: 'e', deliveryId: 'd-1', attempt: 1, result: 'NoAnswer', at: new Date(START).toISOString() },
      { engagementId: 'e', deliveryId: 'd-2', attempt: 1, result: 'NoAnswer', at: '2099-01-01T00:00:00Z' },
    ];
    const dated = JSON.stringify(events);
    const slash = JSON.stringify([events[0], { ...events[0], deliveryId: 'a/b' }]);
    for (const text of [dated, slash]) {
      const { response, calls } = await post(text, { 'x-call-events-signature': signCallEvents(SECRET, t, text) }, START);
      expect(response.status).toBe(400);
      expect(calls).toHaveLength(0);
    }
  });
});
