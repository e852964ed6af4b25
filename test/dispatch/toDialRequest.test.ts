import { describe, expect, it } from 'vitest';
import type { PlannedContact } from '../../src/contacts/plannedContact.js';
import { toDialRequest } from '../../src/dispatch/runPacingTick.js';
import { makeEngagement } from '../support/engagements.js';

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
    expect(toDialRequest(aiLed, record, undefined).contact.attributes).toEqual({
      policy: 'P-1',
      engagementId: 'ai',
      deliveryId: 'd-1',
      attempt: '2',
      timeZone: 'UTC',
      firstName: 'Ana',
    });
    expect(toDialRequest(makeEngagement(), record, 'rep-1')).toMatchObject({
      attempt: 2,
      representativeId: 'rep-1',
      contact: { attributes: { policy: 'P-1' } },
    });
  });
});
