import { readFileSync } from 'node:fs';
import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactBatchSchema } from '../../src/bus/contactBatchMessage.js';
import { disposeApp } from '../../src/app/registry.js';
import { applyFieldMap } from '../../src/intake/fieldMap.js';
import { journeyEventsFunction } from '../../src/intake/intakeFunctions.js';
import { openAllDayEngagementFile, setAppSettings, type AppSettingsHandle } from '../support/appEnvironment.js';
import { startBroker } from '../support/serviceBus.js';

const recorded = readFileSync(new URL('./fixtures/powerAutomateCustomTrigger.json', import.meta.url), 'utf8');

describe('applyFieldMap', () => {
  it("passes this app's own shape through unchanged", () => {
    const native = { eventId: 'e1', journeyId: 'j1', contactId: 'c1', firstName: 'Ada', phones: { mobile: '+12125551001' }, attributes: { a: 1 } };
    expect(applyFieldMap(native)).toEqual(native);
  });

  it('reads a Dataverse contact row: ids, names, the three phones, email, and address columns as attributes', () => {
    const row = {
      contactid: 'c-9',
      firstname: 'Grace',
      lastname: 'Hopper',
      mobilephone: '+12125551002',
      telephone1: '+12125551003',
      telephone2: '+12125551004',
      emailaddress1: 'grace@example.com',
      address1_city: 'Arlington',
      address1_postalcode: '22201',
    };
    expect(applyFieldMap(row)).toMatchObject({
      contactId: 'c-9',
      firstName: 'Grace',
      lastName: 'Hopper',
      phones: { mobile: '+12125551002', business: '+12125551003', home: '+12125551004' },
      email: 'grace@example.com',
      attributes: { city: 'Arlington', postalcode: '22201' },
    });
  });

  it('a configured path wins over the defaults, and lookups ignore case', () => {
    const mapped = applyFieldMap(
      { CUST: { Id: 'x-1' }, contactid: 'ignored', Cell: '+12125551005' },
      { contactId: 'cust.id', 'phones.mobile': ['nope', 'cell'] },
    );
    expect(mapped).toMatchObject({ contactId: 'x-1', phones: { mobile: '+12125551005' } });
  });

  it('the same payload in another key order gets the same derived event id', () => {
    const a = applyFieldMap({ contactid: 'c', mobilephone: '+12125551006', journeyId: 'j' }) as { eventId: string };
    const b = applyFieldMap({ journeyId: 'j', mobilephone: '+12125551006', contactid: 'c' }) as { eventId: string };
    expect(a.eventId).toMatch(/^h[0-9a-f]{32}$/);
    expect(b.eventId).toBe(a.eventId);
  });
});

describe('POST journey-events with a Power Automate custom-trigger payload', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  let appSettings: AppSettingsHandle;

  beforeAll(async () => {
    broker = await startBroker([{ name: 'contact-batches', duplicateDetection: true }]);
    appSettings = setAppSettings({ engagementsFile: openAllDayEngagementFile(), serviceBusConnection: broker.broker.connectionString });
  });

  afterAll(async () => {
    await disposeApp();
    appSettings.restore();
    await broker.stop();
  });

  const post = async (body: string): Promise<HttpResponseInit> => {
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://localhost:7071/api/engagements/open/journey-events',
      body: { string: body },
      headers: { 'content-type': 'application/json' },
      params: { engagementId: 'open' },
    });
    const handler = journeyEventsFunction.handler as (r: HttpRequest, c: InvocationContext) => Promise<HttpResponseInit>;
    return handler(request, new InvocationContext({ functionName: 'journeyEvents', logHandler: () => undefined }));
  };

  it('accepts the payload unchanged and the delivery keeps the journey id and trigger attributes', async () => {
    const response = await post(recorded);
    expect(response.status).toBe(202);
    expect(response.jsonBody).toMatchObject({ received: 1, accepted: 1, batches: 1 });
    const receiver = broker.client.createReceiver('contact-batches');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    if (message === undefined) throw new Error('no contact batch was published');
    await receiver.completeMessage(message);
    await receiver.close();
    const batch = contactBatchSchema.parse(message.body);
    const [contact] = batch.contacts;
    expect(contact).toMatchObject({
      contactId: '6f0d1c2b-3a4e-4f5d-8e6f-7a8b9c0d1e2f',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      phones: [{ type: 'mobile', e164: '+12125551047' }],
      source: 'event:5f0c7c35-8a6e-4b7a-9d55-0e2d3c1f7a01',
      journey: { journeyId: 'c3a1e2d4-5b6f-4e7a-8b9c-0d1e2f3a4b5c', attributes: { appointmentdate: '2026-12-02', policynumber: 'P-20931' } },
    });
    expect(contact?.attributes).toEqual({ appointmentdate: '2026-12-02', policynumber: 'P-20931' });
    // Posting the same payload again (a flow retry) is the same trigger: nothing new is published.
    const again = await post(recorded);
    expect(again.jsonBody).toMatchObject({ triggerId: (response.jsonBody as { triggerId: string }).triggerId });
  });

  it('a payload without a profile id is a 400 naming contactId', async () => {
    const payload = JSON.parse(recorded) as { InputParameters: Record<string, unknown> };
    delete payload.InputParameters['msdynmkt_profileid'];
    delete payload.InputParameters['msdynmkt_signaluserauthid'];
    const response = await post(JSON.stringify(payload));
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.jsonBody)).toContain('contactId');
  });
});
