import { describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/pacing/evaluateRules.js';
import { summarizeOutcomes } from '../../src/pacing/summarizeOutcomes.js';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import type { ActiveCalls } from '../../src/pacing/activeCalls.js';
import { makeEngagement } from '../support/engagements.js';
import { active, events, NOW } from './pacingFixtures.js';

const aiLed = (rules: unknown[], dialMode: unknown = { mode: 'copilot', maxConcurrentCalls: 100 }) =>
  makeEngagement({
    type: 'ai-led',
    dialMode,
    rules,
    agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
  });

function verdict(engagement: ReturnType<typeof makeEngagement>, list: CallEvent[], calls: ActiveCalls = active(), staffed = 10) {
  return evaluateRules({ engagement, summarize: (minutes) => summarizeOutcomes(list, NOW, minutes), active: calls, staffedRepresentatives: staffed });
}

describe('evaluateRules', () => {
  it('abandonment rate 4% reaches a 3% threshold: capacity decreased by 50%, explained', () => {
    const e = makeEngagement({ rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 50 }] });
    const v = verdict(e, [...events(96, 'LiveAnswer'), ...events(4, 'Abandoned')]);
    expect(v.factor).toBe(0.5);
    expect(v.binding?.kind).toBe('abandonment-rate');
    expect(v.binding?.effect).toBe('throttle');
    expect(v.binding?.measured).toBe(4);
    expect(v.binding?.explanation).toBe(
      'abandonment-rate 4% in the last 60 min (4 abandoned of 100 live answers) vs threshold 3%: reached, concurrent calls decreased by 50%',
    );
  });

  it('abandonment: one abandoned call of the first 10 live answers is not judged (minimum sample ceil(100/3) = 34)', () => {
    const e = makeEngagement({ rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 50 }] });
    const v = verdict(e, [...events(9, 'LiveAnswer'), ...events(1, 'Abandoned')]);
    expect(v.factor).toBe(1);
    expect(v.evaluations[0]?.minimumSample).toBe(34);
    expect(v.evaluations[0]?.explanation).toContain('not judged below a sample of 34');
  });

  it('abandonment events outside the window do not count', () => {
    const e = makeEngagement({ rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 10, decreaseByPercent: 50 }] });
    const v = verdict(e, [...events(96, 'LiveAnswer', {}, 60), ...events(4, 'Abandoned', {}, 3600)]);
    expect(v.factor).toBe(1);
    expect(v.evaluations[0]?.measured).toBe(0);
  });

  it('representative-led abandonment at 100% pauses until restarted', () => {
    const e = makeEngagement({ rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 1440, decreaseByPercent: 100 }] });
    const v = verdict(e, [...events(95, 'LiveAnswer'), ...events(5, 'Abandoned')]);
    expect(v.factor).toBe(0);
    expect(v.binding?.effect).toBe('pause-until-restart');
  });

  it('AI-led rule at 100% pauses only while breached', () => {
    const e = aiLed([{ kind: 'escalation-count', threshold: 5, windowMinutes: 30, decreaseByPercent: 100 }]);
    const v = verdict(e, events(5, 'LiveAnswer', { escalated: true }));
    expect(v.factor).toBe(0);
    expect(v.binding?.effect).toBe('pause');
  });

  it('average wait 25 s over 30 min against 20 s: decreased by 25%', () => {
    const e = aiLed([{ kind: 'average-wait-time', threshold: 20, windowMinutes: 30, decreaseByPercent: 25 }]);
    const v = verdict(e, [...events(5, 'LiveAnswer', { escalated: true, waitSeconds: 30 }), ...events(5, 'LiveAnswer', { escalated: true, waitSeconds: 20 })]);
    expect(v.factor).toBe(0.75);
    expect(v.binding?.explanation).toContain('average-wait-time 25 s in the last 30 min (over 10 waits) vs threshold 20 s');
  });

  it('average wait needs 5 waits before it is judged', () => {
    const e = aiLed([{ kind: 'average-wait-time', threshold: 20, windowMinutes: 30, decreaseByPercent: 25 }]);
    expect(verdict(e, events(4, 'LiveAnswer', { escalated: true, waitSeconds: 90 })).factor).toBe(1);
  });

  it('escalation count 12 in 30 min against 10: decreased by 40%', () => {
    const e = aiLed([{ kind: 'escalation-count', threshold: 10, windowMinutes: 30, decreaseByPercent: 40 }]);
    const v = verdict(e, [...events(12, 'LiveAnswer', { escalated: true }), ...events(50, 'LiveAnswer', { escalated: false })]);
    expect(v.factor).toBeCloseTo(0.6, 10);
    expect(v.binding?.measured).toBe(12);
  });

  it('open concurrent escalations: 10 waiting now against 10 throttles; 9 does not', () => {
    const e = aiLed([{ kind: 'open-concurrent-escalations', threshold: 10, windowMinutes: 15, decreaseByPercent: 30 }]);
    expect(verdict(e, [], active({ waitingForRepresentative: 10 })).factor).toBeCloseTo(0.7, 10);
    expect(verdict(e, [], active({ waitingForRepresentative: 9 })).factor).toBe(1);
    expect(verdict(e, [], active({ waitingForRepresentative: 10 })).binding?.explanation).toContain('10 escalations waiting for a representative now');
  });

  it('percentage of queue: 7 of 10 signed-in representatives on this engagement against 60% decreases by 20%', () => {
    const e = makeEngagement({
      dialMode: { mode: 'predictive' },
      rules: [{ kind: 'percentage-of-queue', threshold: 60, windowMinutes: 60, decreaseByPercent: 20 }],
    });
    const v = verdict(e, [], active({ withRepresentative: 7 }), 10);
    expect(v.factor).toBeCloseTo(0.8, 10);
    expect(v.binding?.measured).toBeCloseTo(70, 10);
  });

  it('two rules breached: the larger decrease binds, they do not compound', () => {
    const e = aiLed([
      { kind: 'escalation-count', threshold: 1, windowMinutes: 30, decreaseByPercent: 20 },
      { kind: 'open-concurrent-escalations', threshold: 1, windowMinutes: 15, decreaseByPercent: 50 },
    ]);
    const v = verdict(e, events(3, 'LiveAnswer', { escalated: true }), active({ waitingForRepresentative: 2 }));
    expect(v.factor).toBe(0.5);
    expect(v.binding?.kind).toBe('open-concurrent-escalations');
    expect(v.evaluations.filter((r) => r.breached)).toHaveLength(2);
  });
});

describe('Ofcom: abandonment judged per 24 hours for UK numbers', () => {
  const rule = { kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 50 };
  // The last hour is clean (100 live answers, none abandoned); 20 hours ago 100 live answers had 8 abandoned.
  const day = () => [...events(100, 'LiveAnswer'), ...events(92, 'LiveAnswer', {}, 20 * 3600), ...events(8, 'Abandoned', {}, 20 * 3600)];
  const ofcom24h = (list: CallEvent[]) => summarizeOutcomes(list, NOW, 24 * 60);

  it("the engagement's rule is evaluated again over 24 hours and the stricter result binds", () => {
    const e = makeEngagement({ rules: [rule] });
    const list = day();
    const uk = evaluateRules({
      engagement: e,
      summarize: (m) => summarizeOutcomes(list, NOW, m),
      active: active(),
      staffedRepresentatives: 10,
      ofcom24h: ofcom24h(list),
    });
    expect(uk.evaluations.map((v) => [v.windowMinutes, v.breached, v.regulation])).toEqual([
      [60, false, undefined],
      [1440, true, 'ofcom'],
    ]);
    expect(uk.factor).toBe(0.5);
    expect(uk.binding?.explanation).toBe(
      'Ofcom: abandonment over 24 h is 4% (8 abandoned of 200 live answers) vs threshold 3%: reached, concurrent calls decreased by 50%',
    );
    // The same outcomes without UK numbers: only the hour counts, and it is clean.
    expect(verdict(e, list).factor).toBe(1);
  });

  it('without an abandonment rule the default 3% limit pauses while the 24-hour rate is reached, and not below it', () => {
    const e = makeEngagement({ rules: [] });
    const list = day();
    const v = evaluateRules({
      engagement: e,
      summarize: (m) => summarizeOutcomes(list, NOW, m),
      active: active(),
      staffedRepresentatives: 10,
      ofcom24h: ofcom24h(list),
    });
    expect(v.factor).toBe(0);
    expect(v.binding).toMatchObject({ regulation: 'ofcom', threshold: 3, effect: 'pause', measured: 4 });
    const clean = [...events(98, 'LiveAnswer'), ...events(2, 'Abandoned', {}, 20 * 3600)];
    const ok = evaluateRules({
      engagement: e,
      summarize: (m) => summarizeOutcomes(clean, NOW, m),
      active: active(),
      staffedRepresentatives: 10,
      ofcom24h: ofcom24h(clean),
    });
    expect(ok.factor).toBe(1);
    expect(ok.evaluations[0]?.explanation).toBe('Ofcom: abandonment over 24 h is 2% (2 abandoned of 100 live answers) vs threshold 3%: within the threshold');
  });
});
