import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { TableClient } from '@azure/data-tables';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { contactBatchSchema } from '../../src/bus/contactBatchMessage.js';
import { journeyEventsFunction, previewFunction, segmentMembersFunction } from '../../src/intake/intakeFunctions.js';
import { disposeApp } from '../../src/app/registry.js';
import { openAllDayEngagementFile, setAppSettings, type AppSettingsHandle } from '../support/appEnvironment.js';
import { startBroker } from '../support/serviceBus.js';

let broker: Awaited<ReturnType<typeof startBroker>>;
let appSettings: AppSettingsHandle;
let tablePrefix: string;

beforeAll(async () => {
  broker = await startBroker([{ name: 'contact-batches', duplicateDetection: true }]);
  appSettings = setAppSettings({
    engagementsFile: openAllDayEngagementFile(),
    serviceBusConnection: broker.broker.connectionString,
    extra: { INTAKE_MAX_PAGE_SIZE: '6000', BATCH_MAX_CONTACTS: '500' },
  });
  tablePrefix = appSettings.tablePrefix;
});

afterAll(async () => {
  await disposeApp();
  appSettings.restore();
  await broker.stop();
});

const context = () => new InvocationContext({ functionName: 'test', logHandler: () => undefined });

type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

async function post(fn: { handler: unknown }, path: string, body: string, headers: Record<string, string> = {}, query = ''): Promise<HttpResponseInit> {
  const engagementId = /engagements\/([^/]+)/.exec(path)?.[1] ?? '';
  const request = new HttpRequest({
    method: 'POST',
    url: `http://localhost:7071/api/${path}${query}`,
    body: { string: body },
    headers: { 'content-type': 'application/json', ...headers },
    params: { engagementId },
    query: Object.fromEntries(new URLSearchParams(query)),
  });
  return (fn.handler as Handler)(request, context());
}

const soon = () => ({ start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + 6 * 3_600_000).toISOString() });

function event(i: number, extra: Record<string, unknown> = {}) {
  return {
    eventId: `evt-${i}`,
    journeyId: 'journey-renewals',
    contactId: `contact-${i}`,
    firstName: `First${i}`,
    lastName: 'Tester',
    phones: { mobile: `+1212555${String(1000 + i).padStart(4, '0')}` },
    email: `c${i}@example.com`,
    timeZone: 'America/New_York',
    locale: 'en-US',
    attributes: { policy: `P-${i}`, amountDue: i * 10 },
    windows: [soon()],
    ...extra,
  };
}

/** Drains the queue: every message that arrives within a short wait, completed. */
async function drain(): Promise<ServiceBusReceivedMessage[]> {
  const receiver = broker.client.createReceiver('contact-batches');
  const all: ServiceBusReceivedMessage[] = [];
  for (;;) {
    const batch = await receiver.receiveMessages(100, { maxWaitTimeInMs: 700 });
    if (batch.length === 0) break;
    for (const m of batch) await receiver.completeMessage(m);
    all.push(...batch);
  }
  await receiver.close();
  return all;
}

async function pendingRows(): Promise<number> {
  const table = TableClient.fromConnectionString(inject('azuriteTablesConnection'), `${tablePrefix}PendingContacts`, { allowInsecureConnection: true });
  let n = 0;
  try {
    for await (const _ of table.listEntities()) n++;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return 0;
    throw error;
  }
  return n;
}

describe('journey events through the real handler and broker', () => {
  it('accepts valid events, skips an invalid number, and publishes one batch with the planned contacts', async () => {
    const response = await post(
      journeyEventsFunction,
      'engagements/open/journey-events',
      JSON.stringify([event(1), event(2), event(3, { phones: { mobile: '+1212555' } })]),
    );
    expect(response.status).toBe(202);
    const body = response.jsonBody as Record<string, unknown>;
    expect(body).toMatchObject({ engagementId: 'open', received: 3, accepted: 2, batches: 1, scheduledBatches: 0 });
    expect((body['skipped'] as Record<string, number>)['invalid-phone']).toBe(1);
    expect(body['triggerId']).toMatch(/^t[0-9a-f]{32}$/);

    const messages = await drain();
    expect(messages).toHaveLength(1);
    const message = messages[0] as ServiceBusReceivedMessage;
    const batch = contactBatchSchema.parse(message.body);
    expect(batch.contacts.map((c) => c.contactId)).toEqual(['contact-1', 'contact-2']);
    expect(batch.contacts[0]).toMatchObject({
      firstName: 'First1',
      phones: [{ type: 'mobile', e164: '+12125551001' }],
      timeZone: 'UTC',
      priority: 2,
      source: 'event:evt-1',
      attributes: { policy: 'P-1', amountDue: 10 },
    });
    expect(message.messageId).toBe(`${String(body['triggerId'])}-0-0`);
    expect(message.applicationProperties).toMatchObject({
      engagementId: 'open',
      priority: 2,
      dialMode: 'progressive',
      contactCount: 2,
      schema: 'contact-batch/v1',
    });
    expect(message.contentType).toBe('application/json');
  });

  it('the same trigger posted twice yields one set of messages and the same answer', async () => {
    const payload = JSON.stringify([event(10), event(11)]);
    const first = await post(journeyEventsFunction, 'engagements/open/journey-events', payload);
    const second = await post(journeyEventsFunction, 'engagements/open/journey-events', payload);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect((second.jsonBody as { triggerId: string }).triggerId).toBe((first.jsonBody as { triggerId: string }).triggerId);
    expect((second.jsonBody as { accepted: number }).accepted).toBe(2);
    const messages = await drain();
    expect(messages).toHaveLength(1);
    expect(contactBatchSchema.parse(messages[0]?.body).contacts).toHaveLength(2);
  });

  it('a contact pending from another trigger is skipped as a duplicate', async () => {
    await post(journeyEventsFunction, 'engagements/open/journey-events', JSON.stringify(event(20)));
    const again = await post(journeyEventsFunction, 'engagements/open/journey-events', JSON.stringify({ ...event(20), eventId: 'evt-20-bis' }));
    expect(again.jsonBody).toMatchObject({ accepted: 0, batches: 0, skipped: { duplicate: 1 } });
    expect(await drain()).toHaveLength(1);
  });

  it('a bad request gets 400 with every issue and publishes and stores nothing', async () => {
    const before = await pendingRows();
    const response = await post(
      journeyEventsFunction,
      'engagements/open/journey-events',
      JSON.stringify([
        event(30),
        { ...event(31), timeZone: 'Mars/Olympus', windows: [{ start: 'yesterday', end: soon().end }] },
        { ...event(32), contactId: '' },
      ]),
    );
    expect(response.status).toBe(400);
    const body = response.jsonBody as { error: string; issues: { path: string; message: string }[] };
    expect(body.error).toBe('InvalidRequest');
    expect(body.issues.map((i) => i.path).sort()).toEqual(['[1].timeZone', '[1].windows[0].start', '[2].contactId']);
    expect(body.issues.find((i) => i.path === '[1].timeZone')?.message).toMatch(/IANA/);
    expect(await drain()).toHaveLength(0);
    expect(await pendingRows()).toBe(before);
  });

  it('malformed JSON is a 400, an unknown engagement a 404', async () => {
    const malformed = await post(journeyEventsFunction, 'engagements/open/journey-events', '[{"eventId": ');
    expect(malformed.status).toBe(400);
    const unknown = await post(journeyEventsFunction, 'engagements/nope/journey-events', JSON.stringify(event(40)));
    expect(unknown.status).toBe(404);
    expect((unknown.jsonBody as { message: string }).message).toContain('nope');
  });

  it('a batch whose window opens later is scheduled, not visible now', async () => {
    const later = { start: new Date(Date.now() + 2 * 3_600_000).toISOString(), end: new Date(Date.now() + 5 * 3_600_000).toISOString() };
    const response = await post(journeyEventsFunction, 'engagements/open/journey-events', JSON.stringify(event(50, { windows: [later] })));
    expect(response.jsonBody).toMatchObject({
      accepted: 1,
      batches: 1,
      scheduledBatches: 1,
      firstWindowStart: new Date(Date.parse(later.start)).toISOString(),
    });
    expect(await drain()).toHaveLength(0);
  });
});

describe('segment pages', () => {
  const members = (n: number, offset = 0) =>
    Array.from({ length: n }, (_, i) => {
      const { eventId: _e, journeyId: _j, ...member } = event(offset + i);
      return { ...member, contactId: `seg-${offset + i}`, phones: { mobile: `+1646555${String(i % 10_000).padStart(4, '0')}` } };
    });

  it('an NDJSON page of 5,000 members becomes 10 chunks of 500, each split by size to fit a message, in page order', async () => {
    const body = members(5_000)
      .map((m) => JSON.stringify(m))
      .join('\n');
    const response = await post(
      segmentMembersFunction,
      'engagements/open/segment-members',
      body,
      { 'content-type': 'application/x-ndjson' },
      '?segmentId=seg-a&exportRunId=run-1&page=0',
    );
    expect(response.status).toBe(202);
    const result = response.jsonBody as { received: number; accepted: number; batches: number };
    expect(result).toMatchObject({ received: 5_000, accepted: 5_000 });
    const messages = await drain();
    expect(messages).toHaveLength(result.batches);
    const batches = messages.map((m) => contactBatchSchema.parse(m.body)).sort((a, b) => a.chunk - b.chunk || a.part - b.part);
    // ~520 bytes a contact: 500 of them exceed a 256 KiB message, so every chunk needs two parts.
    expect(new Set(batches.map((b) => b.chunk))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    for (let chunk = 0; chunk < 10; chunk++) {
      const parts = batches.filter((b) => b.chunk === chunk);
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.reduce((n, b) => n + b.contacts.length, 0)).toBe(500);
    }
    for (const m of messages) expect(Buffer.byteLength(JSON.stringify(m.body))).toBeLessThan(256 * 1024);
    expect(batches.flatMap((b) => b.contacts.map((c) => c.contactId))).toEqual(Array.from({ length: 5_000 }, (_, i) => `seg-${i}`));
  });

  it('a JSON array page works the same, and its retry is absorbed', async () => {
    const body = JSON.stringify(members(600, 10_000));
    const query = '?segmentId=seg-b&exportRunId=run-1&page=3';
    const first = await post(segmentMembersFunction, 'engagements/open/segment-members', body, {}, query);
    const retry = await post(segmentMembersFunction, 'engagements/open/segment-members', body, {}, query);
    const published = (first.jsonBody as { batches: number }).batches;
    expect(first.jsonBody).toMatchObject({ accepted: 600 });
    expect(retry.jsonBody).toMatchObject({ accepted: 600, batches: published });
    const messages = await drain();
    expect(messages).toHaveLength(published);
    expect(messages.reduce((n, m) => n + contactBatchSchema.parse(m.body).contacts.length, 0)).toBe(600);
  });

  it('missing page parameters are a 400 naming them', async () => {
    const response = await post(segmentMembersFunction, 'engagements/open/segment-members', JSON.stringify(members(1)), {}, '?segmentId=s');
    expect(response.status).toBe(400);
    expect((response.jsonBody as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual(['query.exportRunId', 'query.page']);
  });

  it('a page over the configured size is a 413 and publishes nothing', async () => {
    const body = members(6_001, 20_000)
      .map((m) => JSON.stringify(m))
      .join('\n');
    const response = await post(
      segmentMembersFunction,
      'engagements/open/segment-members',
      body,
      { 'content-type': 'application/x-ndjson' },
      '?segmentId=s&exportRunId=r&page=1',
    );
    expect(response.status).toBe(413);
    expect(await drain()).toHaveLength(0);
  });
});

describe('compliance preview', () => {
  it('reports what would be called and why others are skipped, publishing nothing', async () => {
    const contacts = [event(60), event(61, { phones: {} }), event(62, { phones: { mobile: '+1212555' } }), event(60)].map(
      ({ eventId: _e, journeyId: _j, ...c }) => c,
    );
    const response = await post(previewFunction, 'engagements/open/preview', JSON.stringify(contacts));
    expect(response.status).toBe(200);
    expect(response.jsonBody).toMatchObject({
      received: 4,
      wouldCall: 1,
      skipped: { 'no-callable-number': 1, 'invalid-phone': 1, duplicate: 1 },
      byTimeZone: { UTC: 1 },
      skippedExamples: { 'no-callable-number': ['contact-61'] },
    });
    expect(await drain()).toHaveLength(0);
  });
});

describe('intake door: what storage cannot hold is refused before anything is published', () => {
  it.each([
    ['many long attributes', event(900, { attributes: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`a${i}`, 'x'.repeat(1000)])) }), 'attributes'],
    ['a contact id with a lone surrogate', event(901, { contactId: 'c-\ud800' }), 'contactId'],
    ['a prototype key', JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(event(902)).slice(1)}`) as unknown, '__proto__'],
  ])('%s: 400 naming the field, nothing published, nothing marked', async (_name, item, path) => {
    const before = await pendingRows();
    const response = await post(journeyEventsFunction, 'engagements/open/journey-events', JSON.stringify([event(903), item]));
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.jsonBody)).toContain(path);
    expect(await drain()).toEqual([]);
    expect(await pendingRows()).toBe(before);
  });

  it('an NDJSON line past the per-item cap is a 413 and nothing is published', async () => {
    const body = `${JSON.stringify(event(904))}\n${JSON.stringify(event(905, { firstName: 'y'.repeat(70_000) }))}\n`;
    const response = await post(
      segmentMembersFunction,
      'engagements/open/segment-members',
      body,
      { 'content-type': 'application/x-ndjson' },
      '?segmentId=s&exportRunId=r&page=9',
    );
    expect(response.status).toBe(413);
    expect(await drain()).toEqual([]);
  });
});
