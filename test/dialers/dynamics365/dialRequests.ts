import type { DialRequest } from '../../../src/dialers/dialerPort.js';

export const CONFIG_ID = '47089bbe-deb7-ef11-b8e6-000d3a36a6b3';
export const OTHER_CONFIG_ID = '6da5cb99-c060-f111-ab0c-70a8a5afa55c';

type Overrides = Omit<Partial<DialRequest>, 'contact'> & { contact?: Partial<DialRequest['contact']> };

/** A plain delivery (bulk-eligible): mobile number, both names, no attributes or windows, normal priority. */
export function plainRequest(n: number, overrides: Overrides = {}): DialRequest {
  const { contact, ...rest } = overrides;
  return {
    deliveryId: `dlv-${String(n).padStart(4, '0')}`,
    attempt: 1,
    engagementId: 'policy-renewal-reminders',
    dynamicsConfigId: CONFIG_ID,
    priority: 1,
    ...rest,
    contact: {
      contactId: `c7a1e2d4-0000-4000-8000-${String(n).padStart(12, '0')}`,
      firstName: 'Avery',
      lastName: `Nguyen${n}`,
      phones: [{ type: 'mobile', e164: `+1415555${String(n).padStart(4, '0')}` }],
      timeZone: 'America/Los_Angeles',
      attributes: {},
      windows: [],
      ...contact,
    },
  };
}

/** An AI-led delivery: input attributes for the Copilot agent, calling windows, two phone types, high priority. */
export function aiLedRequest(n: number, overrides: Overrides = {}): DialRequest {
  return plainRequest(n, {
    priority: 3,
    ...overrides,
    contact: {
      email: `avery.nguyen${n}@example.com`,
      phones: [
        { type: 'mobile', e164: `+1415555${String(n).padStart(4, '0')}` },
        { type: 'home', e164: `+1650555${String(n).padStart(4, '0')}` },
      ],
      attributes: { policyNumber: `HO-2026-${n}`, daysToRenewal: 14, vip: true },
      windows: [
        { start: '2026-11-25T17:00:00.000Z', end: '2026-11-25T20:00:00.000Z' },
        { start: '2026-11-26T17:00:00Z', end: '2026-11-26T20:00:00Z' },
      ],
      ...overrides.contact,
    },
  });
}
