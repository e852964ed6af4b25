import type { CallEvent } from '../contacts/callEvent.js';
import type { CallWindow } from '../contacts/plannedContact.js';
import type { EngagementConfig, ReattemptResult } from '../engagement/engagementSchema.js';
import type { QueueBand } from '../store/dispatch/deliveryStore.js';
import { CALLBACK_WINDOW_MS } from './callbackWindows.js';

export { CALLBACK_WINDOW_MS };

export type ReattemptDecision =
  | { readonly kind: 'final'; readonly state: 'done' | 'rejected'; readonly reason: string }
  | { readonly kind: 'requeue'; readonly notBefore: number; readonly band: QueueBand; readonly windows?: readonly CallWindow[]; readonly reason: string };

const BAND_BY_PRIORITY = { higher: 0, same: 1, lower: 2 } as const satisfies Record<string, QueueBand>;

/** Which configured reattempt trigger an outcome matches, if any. */
export function reattemptTrigger(event: CallEvent): ReattemptResult | undefined {
  if (event.disposition === 'not-right-party') return 'NotRightParty';
  switch (event.result) {
    case 'NoAnswer':
      return 'NoAnswer';
    case 'Busy':
      return 'Busy';
    case 'CallFailed':
      return 'CallFailed';
    case 'AnsweringMachine':
    case 'AnsweringMachineHangup':
      // A voicemail left counts as reached: the message was delivered.
      return event.disposition === 'voicemail' ? undefined : 'AnsweringMachine';
    default:
      return undefined;
  }
}

/**
 * What happens to a delivery after an attempt ends: finished, or queued again (the engagement's
 * reattempt policy, or a callback the customer asked for). Pure: a function of the engagement, the
 * outcome, the contact's windows and the attempt number.
 */
export function decideReattempt(engagement: EngagementConfig, event: CallEvent, windows: readonly CallWindow[]): ReattemptDecision {
  if (event.disposition === 'callback' && event.callbackAt !== undefined) {
    const at = Date.parse(event.callbackAt);
    // The customer chose the time, so their window replaces the planned ones; a higher band keeps the promise.
    return {
      kind: 'requeue',
      notBefore: at,
      band: 0,
      windows: [{ start: new Date(at).toISOString(), end: new Date(at + CALLBACK_WINDOW_MS).toISOString() }],
      reason: `callback requested for ${event.callbackAt}`,
    };
  }
  if (['InvalidAddress', 'NonRetriableError', 'NotAHandset'].includes(event.result)) {
    return { kind: 'final', state: 'rejected', reason: `${event.result} is not retried` };
  }
  const policy = engagement.reattempts;
  const trigger = reattemptTrigger(event);
  if (policy === undefined || trigger === undefined || !policy.on.includes(trigger)) {
    return { kind: 'final', state: 'done', reason: trigger === undefined ? event.result : `no reattempt configured on ${trigger}` };
  }
  if (event.attempt >= policy.maxAttempts) {
    return { kind: 'final', state: 'done', reason: `${trigger}: all ${policy.maxAttempts} attempts made` };
  }
  const notBefore = Date.parse(event.at) + policy.waitMinutes * 60_000;
  const lastEnd = Math.max(0, ...windows.map((w) => Date.parse(w.end)));
  if (notBefore >= lastEnd) {
    return { kind: 'final', state: 'done', reason: `${trigger}: the next attempt would fall after the last calling window` };
  }
  return {
    kind: 'requeue',
    notBefore,
    band: BAND_BY_PRIORITY[policy.relativePriority],
    reason: `${trigger}: attempt ${event.attempt + 1} of ${policy.maxAttempts}`,
  };
}

/** Results that mean the contact's phone was actually engaged, and so count against frequency limits. */
export function countsAsEngagement(event: CallEvent): boolean {
  return !['Cancelled', 'Expired', 'InvalidAddress', 'NonRetriableError', 'NotAHandset', 'Error', 'CSRCancelled'].includes(event.result);
}
