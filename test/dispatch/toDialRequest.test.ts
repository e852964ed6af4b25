import { describe, expect, it } from 'vitest';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';
import { callablePhones, toDialRequest } from '../../src/dispatch/runPacingTick.js';
import { makeEngagement } from '../support/engagements.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');

function contact(i: number, key = `f${String(i).padStart(4, '0')}`): PlannedContact {
  const windows = [{ start: '2026-11-25T14:00:00.000Z', end: '2026-11-25T20:00:00.000Z' }];
  return {
    contactId: `c${i}`,
    phones: [{ type: 'mobile', e164: `+1212555${String(1000 + i)}`, windows }],
    timeZone: 'UTC',
    timezoneInferred: false,
    windows,
    attributes: {},
    callOrderKey: key,
    priority: 1,
    source: 'event:e',
    deliveryId: `d-${i}`,
  };
}

describe('dial requests', () => {
  it('AI-led calls carry the agent leg context as input attributes; representative-led ones do not', () => {
    const record = {
      engagementId: 'e',
      deliveryId: 'd-1',
      state: 'dialing' as const,
      attempt: 2,
      contact: { ...contact(1), firstName: 'Ana', attributes: { policy: 'P-1' } },
      triggerId: 't',
      queueRowKey: undefined,
      band: 1 as const,
      backendRef: undefined,
      lastResult: undefined,
      updatedAt: '',
      etag: '*',
    };
    const aiLed = makeEngagement({
      id: 'ai',
      type: 'ai-led',
      dialMode: { mode: 'copilot', maxConcurrentCalls: 5 },
      agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
    });
    expect(toDialRequest(aiLed, record, undefined, NOW).contact.attributes).toEqual({
      policy: 'P-1',
      engagementId: 'ai',
      deliveryId: 'd-1',
      attempt: '2',
      timeZone: 'UTC',
      firstName: 'Ana',
    });
    expect(toDialRequest(makeEngagement(), record, 'rep-1', NOW)).toMatchObject({
      attempt: 2,
      representativeId: 'rep-1',
      contact: { attributes: { policy: 'P-1' } },
    });
  });

  it('sends only the phones inside their own windows, with a window every one of them stays callable in', () => {
    // Mobile 14:00-20:00 UTC; home is in its quiet hours until 17:00, then open to 22:00; business 12:00-16:00.
    const mobile = [{ start: '2026-11-25T14:00:00.000Z', end: '2026-11-25T20:00:00.000Z' }];
    const home = [{ start: '2026-11-25T17:00:00.000Z', end: '2026-11-25T22:00:00.000Z' }];
    const business = [{ start: '2026-11-25T12:00:00.000Z', end: '2026-11-25T16:00:00.000Z' }];
    const c: PlannedContact = {
      ...contact(2),
      phones: [
        { type: 'home', e164: '+12125550001', windows: home },
        { type: 'mobile', e164: '+12125550002', windows: mobile },
        { type: 'business', e164: '+12125550003', windows: business },
      ],
      windows: [{ start: '2026-11-25T12:00:00.000Z', end: '2026-11-25T22:00:00.000Z' }],
    };
    expect(callablePhones(c, NOW)).toEqual({
      phones: [
        { type: 'mobile', e164: '+12125550002' },
        { type: 'business', e164: '+12125550003' },
      ],
      windows: [{ start: '2026-11-25T15:00:00.000Z', end: '2026-11-25T16:00:00.000Z' }],
    });
    expect(callablePhones(c, Date.parse('2026-11-25T21:00:00Z')).phones).toEqual([{ type: 'home', e164: '+12125550001' }]);
    expect(callablePhones(c, Date.parse('2026-11-25T23:00:00Z'))).toEqual({ phones: [], windows: [] });
  });
});
