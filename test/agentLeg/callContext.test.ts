import { describe, expect, it } from 'vitest';
import { readCallContext } from '../../src/agentLeg/callContext.js';
import type { InboundActivity } from '../../src/agentLeg/inboundActivity.js';
import { anaContextValue } from './support/agentLegFixtures.js';

function activity(fields: Partial<InboundActivity> & { type: string }): InboundActivity {
  return { channelId: 'msteams', from: { id: 'customer' }, recipient: { id: 'agent' }, conversation: { id: 'c-1' }, ...fields };
}

describe('readCallContext', () => {
  it('startConversation event with a nested context', () => {
    const read = readCallContext(activity({ type: 'event', name: 'startConversation', value: anaContextValue }));
    expect(read).toMatchObject({ kind: 'valid', context: { deliveryId: 'd-1001', attempt: 1, locale: 'en-US', attributes: { policyNumber: 'HP-4471' } } });
  });

  it('flat context variables (strings, as hubs send them): reserved names, va_* fields, msdyn_* ignored, the rest attributes', () => {
    const read = readCallContext(
      activity({
        type: 'conversationUpdate',
        value: {
          engagementId: 'renewals',
          deliveryId: 'd-2',
          attempt: '2',
          timeZone: 'Europe/London',
          amountDue: '120.50',
          va_BotName: 'Contoso Copilot',
          va_Topics: 'Renewal',
          msdyn_liveworkitemid: '5ba69c2c-40b5-4af2-bd76-a94c10bd4f43',
        },
      }),
    );
    expect(read).toEqual({
      kind: 'valid',
      context: {
        engagementId: 'renewals',
        deliveryId: 'd-2',
        attempt: 2,
        timeZone: 'Europe/London',
        locale: 'en-US',
        attributes: { amountDue: '120.50' },
        copilotStudio: { va_BotName: 'Contoso Copilot', va_Topics: ['Renewal'] },
      },
    });
  });

  it('Omnichannel carries the context as a JSON string in text: it is read too', () => {
    const read = readCallContext(activity({ type: 'event', name: 'startConversation', text: JSON.stringify(anaContextValue) }));
    expect(read.kind).toBe('valid');
  });

  it('the first message with the context in channelData.context', () => {
    const read = readCallContext(activity({ type: 'message', text: 'hello', channelData: { context: anaContextValue } }));
    expect(read).toMatchObject({ kind: 'valid', context: { firstName: 'Ana' } });
  });

  it('a message without context carries none', () => {
    expect(readCallContext(activity({ type: 'message', text: 'yes' }))).toEqual({ kind: 'none' });
  });

  it('an invalid context names each bad field by the path the caller sent, and keeps the delivery ids', () => {
    const read = readCallContext(
      activity({
        type: 'event',
        name: 'startConversation',
        value: { engagementId: 'renewals', deliveryId: 'd-3', attempt: 1, timeZone: 'Mars/Olympus', amount: { nested: true } },
      }),
    );
    expect(read.kind).toBe('invalid');
    if (read.kind !== 'invalid') return;
    expect(read.ids).toEqual({ engagementId: 'renewals', deliveryId: 'd-3', attempt: 1 });
    expect(read.issues.map((i) => i.path).sort()).toEqual(['value.amount', 'value.timeZone']);
  });

  it('a startConversation without any value is an invalid (missing) context', () => {
    const read = readCallContext(activity({ type: 'event', name: 'startConversation' }));
    expect(read).toMatchObject({ kind: 'invalid', issues: [{ path: 'value' }] });
  });

  it('a missing time zone is refused rather than assumed', () => {
    const { timeZone: _omitted, ...withoutZone } = anaContextValue;
    const read = readCallContext(activity({ type: 'event', name: 'startConversation', value: withoutZone }));
    expect(read).toMatchObject({ kind: 'invalid', issues: [{ path: 'value.timeZone' }] });
  });
});
