import { parseEngagementFile, type EngagementCatalog } from '../../../src/engagement/loadEngagementFile.js';
import type { EngagementConfig } from '../../../src/engagement/engagementSchema.js';
import type { CallContext } from '../../../src/agentLeg/callContext.js';
import { callContextSchema } from '../../../src/agentLeg/callContext.js';

const weekdays = (start: string, end: string) => Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((d) => [d, [{ start, end }]]));

const aiLed = {
  name: 'Policy renewal reminders',
  workstream: 'Outbound voice - renewals',
  channel: 'voice',
  routing: { primaryQueue: 'renewals-voice', fallbackQueue: 'renewals-overflow', skills: ['renewals', 'english'] },
  type: 'ai-led',
  dialMode: { mode: 'copilot', maxConcurrentCalls: 50 },
  priority: 'high',
  agentFailurePolicy: { action: 'continue-until', failureRatePercent: 2 },
  reattempts: { on: ['NoAnswer', 'AnsweringMachine', 'NotRightParty'], maxAttempts: 3, waitMinutes: 120 },
  phoneOrder: ['mobile'],
  quietHours: { mobile: [] },
};

/** A small catalogue: AI-led engagements (voicemail left / not left) and a representative-led one. */
export const catalog: EngagementCatalog = parseEngagementFile({
  queues: [
    {
      name: 'renewals-voice',
      operatingHours: { timeZone: 'America/New_York', days: weekdays('08:00', '20:00') },
      representatives: [{ userId: '6e1f0a52-0c1e-4b6a-9a1e-000000000001' }],
      skills: ['renewals', 'english'],
    },
    {
      name: 'renewals-overflow',
      operatingHours: { timeZone: 'Europe/London', days: weekdays('00:00', '24:00') },
      representatives: [{ userId: '6e1f0a52-0c1e-4b6a-9a1e-000000000021' }],
      skills: ['renewals'],
    },
  ],
  engagements: [
    {
      ...aiLed,
      id: 'renewals',
      agentLeg: {
        purpose: 'your home insurance policy {policyNumber} renews on {renewalDate}',
        voicemail: { action: 'leave-message', message: 'Hello, this is Contoso Insurance about your policy renewal. Please call us back.' },
        timeoutSeconds: 300,
      },
    },
    {
      ...aiLed,
      id: 'renewals-no-voicemail',
      routing: { primaryQueue: 'renewals-voice', skills: ['renewals'] },
      agentLeg: { purpose: 'your policy renews soon', voicemail: { action: 'end' }, timeoutSeconds: 60 },
    },
    {
      id: 'collections',
      name: 'Collections',
      workstream: 'Outbound voice - collections',
      channel: 'voice',
      routing: { primaryQueue: 'renewals-voice' },
      type: 'representative-led',
      dialMode: { mode: 'predictive' },
      phoneOrder: ['mobile'],
      quietHours: { mobile: [] },
    },
  ],
});

export function engagement(id: string): EngagementConfig {
  const found = catalog.engagements.get(id);
  if (found === undefined) throw new Error(`fixture engagement ${id} is missing`);
  return found;
}

/** The call context of delivery d-1001 for Ana in New York, as a startConversation value. */
export const anaContextValue = {
  engagementId: 'renewals',
  deliveryId: 'd-1001',
  attempt: 1,
  firstName: 'Ana',
  timeZone: 'America/New_York',
  attributes: { policyNumber: 'HP-4471', renewalDate: '2026-03-20' },
} as const;

export function anaContext(overrides: Partial<Record<keyof typeof anaContextValue, unknown>> = {}): CallContext {
  return callContextSchema.parse({ ...anaContextValue, ...overrides });
}
