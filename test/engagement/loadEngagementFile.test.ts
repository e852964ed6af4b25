import { describe, expect, it } from 'vitest';
import { loadEngagementFile, parseEngagementFile } from '../../src/engagement/loadEngagementFile.js';
import { UserError } from '../../src/errors.js';

const queue = {
  name: 'q1',
  operatingHours: { timeZone: 'UTC', days: { monday: [{ start: '09:00', end: '17:00' }] } },
  representatives: [{ userId: '00000000-0000-4000-8000-000000000001' }],
};

const base = {
  id: 'e1',
  name: 'E1',
  workstream: 'ws',
  channel: 'voice',
  routing: { primaryQueue: 'q1' },
  type: 'ai-led',
  dialMode: { mode: 'copilot', maxConcurrentCalls: 10 },
  agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
  phoneOrder: ['mobile'],
  quietHours: { mobile: [] },
};

function issuesOf(engagement: Record<string, unknown>, queues: unknown[] = [queue]): string[] {
  try {
    parseEngagementFile({ queues, engagements: [engagement] });
  } catch (error) {
    if (error instanceof UserError) return (error.details ?? []).map((d) => `${d.path}: ${d.message}`);
    throw error;
  }
  return [];
}

describe('engagement file', () => {
  it('the shipped sample is valid and fills defaults', async () => {
    const catalog = await loadEngagementFile('config/engagements.sample.json');
    expect([...catalog.engagements.keys()]).toEqual(['policy-renewal-reminders', 'payment-followup', 'appointment-confirmation']);
    const preview = catalog.engagements.get('appointment-confirmation');
    expect(preview?.legalHours).toEqual({ start: '08:00', end: '21:00' });
    expect(Object.isFrozen(preview)).toBe(true);
  });

  it('a valid minimal AI-led copilot engagement has no issues', () => {
    expect(issuesOf(base)).toEqual([]);
  });

  it.each([
    [
      'copilot for a representative-led engagement',
      { type: 'representative-led', agentLeg: undefined },
      'engagement "e1" dialMode.mode: copilot dial mode is for AI-led engagements only',
    ],
    [
      'preview for an AI-led engagement',
      { dialMode: { mode: 'preview' } },
      'engagement "e1" dialMode.mode: preview dial mode is for representative-led engagements only',
    ],
    [
      'more than 5 calls per representative',
      { dialMode: { mode: 'progressive', maxCallsPerRepresentative: 6 } },
      'engagement "e1" dialMode.maxCallsPerRepresentative: Too big: expected number to be <=5',
    ],
    [
      'max calls per representative in preview mode',
      { type: 'representative-led', agentLeg: undefined, dialMode: { mode: 'preview', maxCallsPerRepresentative: 2 } },
      'engagement "e1" dialMode: Unrecognized key: "maxCallsPerRepresentative"',
    ],
    [
      'more than 500 concurrent copilot calls',
      { dialMode: { mode: 'copilot', maxConcurrentCalls: 501 } },
      'engagement "e1" dialMode.maxConcurrentCalls: Too big: expected number to be <=500',
    ],
    [
      'calling outside queue hours in predictive mode',
      { dialMode: { mode: 'predictive' }, operatingHours: { allowOutsideQueueHours: true } },
      'engagement "e1" operatingHours.allowOutsideQueueHours: calling outside queue hours applies to copilot and progressive modes, not predictive',
    ],
    [
      'a failure policy on a representative-led engagement',
      { type: 'representative-led', agentLeg: undefined, dialMode: { mode: 'progressive' }, agentFailurePolicy: { action: 'stop' } },
      'engagement "e1" agentFailurePolicy: the AI agent failure policy applies to AI-led engagements only',
    ],
    [
      'a failure rate over 5%',
      { agentFailurePolicy: { action: 'continue-until', failureRatePercent: 6 } },
      'engagement "e1" agentFailurePolicy.failureRatePercent: Too big: expected number to be <=5',
    ],
    [
      'a percentage-of-queue rule in copilot mode',
      { rules: [{ kind: 'percentage-of-queue', threshold: 50, windowMinutes: 60, decreaseByPercent: 10 }] },
      'engagement "e1" rules[0].kind: rule percentage-of-queue does not apply to ai-led engagements in copilot mode',
    ],
    [
      'a rule window over 30 days',
      { rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 43_201, decreaseByPercent: 100 }] },
      'engagement "e1" rules[0].windowMinutes: expected a window of at most 43200 minutes (30 days): outcomes are aggregated for 30 days',
    ],
    [
      'missing quiet hours for a phone type',
      { phoneOrder: ['mobile', 'home'] },
      'engagement "e1" quietHours.home: quiet hours must be set for every phone type in phoneOrder (use [] for none)',
    ],
    [
      'an AI-led engagement without its agent leg',
      { agentLeg: undefined },
      'engagement "e1" agentLeg: AI-led engagements need agentLeg (purpose and voicemail behaviour)',
    ],
    ['an undeclared queue', { routing: { primaryQueue: 'nowhere' } }, 'engagement "e1" routing.primaryQueue: queue nowhere is not declared in "queues"'],
  ])('rejects %s, naming the engagement and the field', (_case, change, expected) => {
    expect(issuesOf({ ...base, ...change })).toContain(expected);
  });

  it('the failure policy defaults to 1%', () => {
    const catalog = parseEngagementFile({ queues: [queue], engagements: [{ ...base, agentFailurePolicy: { action: 'continue-until' } }] });
    expect(catalog.engagements.get('e1')?.agentFailurePolicy).toEqual({ action: 'continue-until', failureRatePercent: 1 });
  });

  it('a missing or malformed file fails with its path', async () => {
    await expect(loadEngagementFile('config/does-not-exist.json')).rejects.toThrow(/cannot read engagement file config\/does-not-exist.json/);
    await expect(loadEngagementFile('package-lock.json')).rejects.toThrow(
      /engagement file package-lock.json is invalid:\n {2}- queues: Invalid input: expected array/,
    );
  });
});
