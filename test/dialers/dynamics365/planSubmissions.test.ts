import { describe, expect, it } from 'vitest';
import { dynamicsRequestId } from '../../../src/dialers/dynamics365/dynamicsRequestId.js';
import { planSubmissions } from '../../../src/dialers/dynamics365/planSubmissions.js';
import { CONFIG_ID, OTHER_CONFIG_ID, aiLedRequest, plainRequest } from './dialRequests.js';

const options = { apiVersion: '1.0', useBulk: true, bulkChunkSize: 1_000 };

describe('planSubmissions', () => {
  it('an AI-led delivery goes singly with every field, Contacts serialised as a JSON string', () => {
    const request = aiLedRequest(7);
    const plan = planSubmissions([request], options);
    expect(plan.bulks).toEqual([]);
    expect(plan.rejected).toEqual([]);
    const [single] = plan.singles;
    expect(single?.body).toEqual({
      ApiVersion: '1.0',
      ProactiveEngagementConfigId: CONFIG_ID,
      RequestId: dynamicsRequestId('dlv-0007', 1),
      Priority: '3',
      Contacts: expect.any(String),
    });
    expect(JSON.parse(single?.body.Contacts ?? '')).toEqual([
      {
        uniqueIdentifier: 'c7a1e2d4-0000-4000-8000-000000000007',
        firstName: 'Avery',
        lastName: 'Nguyen7',
        email: 'avery.nguyen7@example.com',
        mobilePhoneNumber: '+14155550007',
        homePhoneNumber: '+16505550007',
        timezone: 'Pacific Standard Time',
        inputAttributes: { policyNumber: 'HO-2026-7', daysToRenewal: '14', vip: 'true' },
        windows: [
          { start: '2026-11-25T17:00:00.000Z', end: '2026-11-25T20:00:00.000Z' },
          { start: '2026-11-26T17:00:00.000Z', end: '2026-11-26T20:00:00.000Z' },
        ],
      },
    ]);
  });

  it('plain deliveries go in bulk, grouped by engagement config and chunked', () => {
    const requests = [
      plainRequest(1),
      plainRequest(2, { dynamicsConfigId: OTHER_CONFIG_ID }),
      plainRequest(3),
      plainRequest(4),
      plainRequest(5, {
        contact: {
          phones: [
            { type: 'mobile', e164: '+14155550005' },
            { type: 'business', e164: '+14155559005' },
          ],
        },
      }),
    ];
    const plan = planSubmissions(requests, { ...options, bulkChunkSize: 2 });
    expect(plan.singles).toEqual([]);
    expect(plan.bulks.map((b) => [b.body.ProactiveEngagementConfigId, b.requests.map((r) => r.deliveryId)])).toEqual([
      [CONFIG_ID, ['dlv-0001', 'dlv-0003']],
      [CONFIG_ID, ['dlv-0004', 'dlv-0005']],
      [OTHER_CONFIG_ID, ['dlv-0002']],
    ]);
    expect(JSON.parse(plan.bulks[1]?.body.ProactiveDeliveries ?? '')).toEqual([
      {
        uniqueIdentifier: 'c7a1e2d4-0000-4000-8000-000000000004',
        firstName: 'Avery',
        lastName: 'Nguyen4',
        mobilePhoneNumber: '+14155550004',
        timeZone: 'Pacific Standard Time',
      },
      {
        uniqueIdentifier: 'c7a1e2d4-0000-4000-8000-000000000005',
        firstName: 'Avery',
        lastName: 'Nguyen5',
        mobilePhoneNumber: '+14155550005',
        businessPhoneNumber: '+14155559005',
        timeZone: 'Pacific Standard Time',
      },
    ]);
    expect(Object.keys(plan.bulks[0]?.body ?? {}).sort()).toEqual(['ApiVersion', 'ProactiveDeliveries', 'ProactiveEngagementConfigId', 'RequestId']);
  });

  it.each([
    ['input attributes', plainRequest(1, { contact: { attributes: { orderNumber: 'ORD-1' } } })],
    ['calling windows', plainRequest(1, { contact: { windows: [{ start: '2026-11-25T17:00:00Z', end: '2026-11-25T18:00:00Z' }] } })],
    ['a raised priority', plainRequest(1, { priority: 2 })],
    [
      'a home number',
      plainRequest(1, {
        contact: {
          phones: [
            { type: 'mobile', e164: '+14155550001' },
            { type: 'home', e164: '+16505550001' },
          ],
        },
      }),
    ],
    ['no mobile number', plainRequest(1, { contact: { phones: [{ type: 'business', e164: '+14155550001' }] } })],
    ['no last name', plainRequest(1, { contact: { lastName: undefined } })],
  ])('a delivery with %s goes singly (bulk V2 cannot carry it)', (_case, request) => {
    const plan = planSubmissions([request], options);
    expect(plan.bulks).toEqual([]);
    expect(plan.singles.map((s) => s.request.deliveryId)).toEqual(['dlv-0001']);
  });

  it('useBulk: false sends plain deliveries singly too', () => {
    const plan = planSubmissions([plainRequest(1), plainRequest(2)], { ...options, useBulk: false });
    expect(plan.bulks).toEqual([]);
    expect(plan.singles).toHaveLength(2);
  });

  it('the first number of a phone type wins the one D365 slot for that type', () => {
    const request = plainRequest(1, {
      contact: {
        phones: [
          { type: 'mobile', e164: '+14155550001' },
          { type: 'mobile', e164: '+14155550999' },
        ],
      },
    });
    const [single] = planSubmissions([request], { ...options, useBulk: false }).singles;
    expect(JSON.parse(single?.body.Contacts ?? '')[0].mobilePhoneNumber).toBe('+14155550001');
  });

  it('rejects what D365 cannot take, naming the field, and plans the rest', () => {
    const plan = planSubmissions(
      [
        plainRequest(1, { dynamicsConfigId: undefined }),
        plainRequest(2, { contact: { timeZone: 'Antarctica/Troll' } }),
        plainRequest(3, { contact: { phones: [] } }),
        plainRequest(4, { contact: { windows: [{ start: '2026-11-25T18:00:00Z', end: '2026-11-25T17:00:00Z' }] } }),
        plainRequest(5),
      ],
      options,
    );
    expect(plan.rejected.map((r) => [r.request.deliveryId, r.reason])).toEqual([
      ['dlv-0001', expect.stringContaining('has no dynamicsConfigId')],
      ['dlv-0002', expect.stringContaining('contact.timeZone "Antarctica/Troll" has no Windows time zone mapping')],
      ['dlv-0003', expect.stringContaining('contact.phones is empty')],
      ['dlv-0004', expect.stringContaining('contact.windows[0] is not a valid interval')],
    ]);
    expect(plan.bulks.flatMap((b) => b.requests.map((r) => r.deliveryId))).toEqual(['dlv-0005']);
  });
});
