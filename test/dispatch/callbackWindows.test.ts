import { describe, expect, it } from 'vitest';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';
import { callbackContact } from '../../src/dispatch/callbackWindows.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';

const engagement = makeEngagement({
  phoneOrder: ['mobile', 'home'],
  quietHours: { mobile: [], home: [{ start: '12:00', end: '14:00' }] },
  legalHours: { start: '08:00', end: '21:00' },
});
const planned: PlannedContact = {
  contactId: 'c1',
  phones: [
    { type: 'mobile', e164: '+12125550100', windows: [] },
    { type: 'home', e164: '+17185550100', windows: [] },
  ],
  timeZone: 'America/New_York',
  timezoneInferred: false,
  windows: [],
  attributes: {},
  callOrderKey: 'k',
  priority: 1,
  source: 'event:1',
  deliveryId: 'd-1',
};

describe('callback windows', () => {
  it('a callback asked for 23:00 in New York is offered from 08:00 the next morning, not at 23:00', () => {
    const at = Date.parse('2026-11-03T04:00:00Z'); // 23:00 EST
    const contact = callbackContact(engagement, makeQueue(), planned, at);
    expect(contact?.windows).toEqual([{ start: '2026-11-03T13:00:00.000Z', end: '2026-11-03T14:00:00.000Z' }]);
  });

  it('a callback over lunch keeps the mobile phone and drops the home phone in its quiet hours', () => {
    const at = Date.parse('2026-11-03T17:15:00Z'); // 12:15 EST
    const contact = callbackContact(engagement, makeQueue(), planned, at);
    expect(contact?.phones.map((p) => [p.type, p.windows])).toEqual([['mobile', [{ start: '2026-11-03T17:15:00.000Z', end: '2026-11-03T18:15:00.000Z' }]]]);
  });
});
