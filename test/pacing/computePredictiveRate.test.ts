import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import {
  predictiveLinesInFlight,
  predictiveSafeLines,
  abandonmentScale,
  computePredictiveRate,
  exceededWaitScale,
  PREDICTIVE_MAX_RATE,
  PREDICTIVE_SCALE_MAX,
  PREDICTIVE_SCALE_MIN,
  type PredictiveInputs,
} from '../../src/pacing/computePredictiveRate.js';
import { summarizeOutcomes } from '../../src/pacing/summarizeOutcomes.js';
import { makeEngagement } from '../support/engagements.js';
import { events, NOW } from './pacingFixtures.js';

const predictive = makeEngagement({ dialMode: { mode: 'predictive' } });
/** 1,000 dials, 20% live answered, no abandonment, waits of 0.4 s: base 5. */
const steadyDay = (): CallEvent[] => [...events(200, 'LiveAnswer', { representativeId: 'r', waitSeconds: 0.4 }), ...events(800, 'NoAnswer')];

function inputs(list: CallEvent[], overrides: Partial<PredictiveInputs> = {}): PredictiveInputs {
  const s = (minutes: number) => summarizeOutcomes(list, NOW, minutes);
  return {
    engagement: predictive,
    rolling: s(43_200),
    recent: s(60),
    compliance: s(43_200),
    staffedRepresentatives: 50,
    dialing: true,
    now: NOW,
    ...overrides,
  };
}

const longAgo = { updatedAt: new Date(NOW.getTime() - 3_600_000).toISOString() };

describe('computePredictiveRate', () => {
  it('below 10 signed-in representatives: progressive, one line per representative', () => {
    const p = computePredictiveRate(inputs(steadyDay(), { staffedRepresentatives: 9, previous: { rate: 4, ...longAgo } }));
    expect(p.effectiveMode).toBe('progressive');
    expect(p.fallback).toBe('below-minimum-representatives');
    expect(p.rate).toBe(1);
  });

  it('exactly 10 signed-in representatives: predictive', () => {
    expect(computePredictiveRate(inputs(steadyDay(), { staffedRepresentatives: 10 })).effectiveMode).toBe('predictive');
  });

  it('base rate = 1 / live-answer rate (20% -> 5 lines per representative)', () => {
    const p = computePredictiveRate(inputs(steadyDay(), { previous: { rate: 5, ...longAgo } }));
    expect(p.successRate).toBe(0.2);
    expect(p.baseRate).toBe(5);
  });

  it('answered calls still up count as live answers for the base rate', () => {
    // 100 ended live answers of 1,000 ended dials reads 10%; 100 more people are talking right now.
    const list = [...events(100, 'LiveAnswer'), ...events(900, 'NoAnswer')];
    const s = (m: number) => summarizeOutcomes(list, NOW, m);
    const naive = computePredictiveRate(inputs(list));
    expect(naive.baseRate).toBe(10);
    const corrected = computePredictiveRate({
      ...inputs(list),
      rolling: { ...s(43_200), dialed: 1100, liveAnswers: 200 },
    });
    expect(corrected.baseRate).toBeCloseTo(5.5, 10);
  });

  it('warm-up: fewer than 50 dials keeps the base at one line per representative', () => {
    const p = computePredictiveRate(inputs([...events(5, 'LiveAnswer'), ...events(40, 'NoAnswer')]));
    expect(p.warmUp).toBe(true);
    expect(p.baseRate).toBe(1);
  });

  it('the rate rises at most 35% per interval (2 -> 2.7 although 5+ is proposed)', () => {
    const p = computePredictiveRate(inputs(steadyDay(), { previous: { rate: 2, ...longAgo } }));
    expect(p.proposedRate).toBeGreaterThan(5);
    expect(p.rate).toBeCloseTo(2.7, 10);
    expect(p.changeLimited).toBe(true);
  });

  it('the rate falls at most 35% per interval (10 -> 6.5)', () => {
    // Customers joined after 1.9 s on average (within 2 s, so not abandoned): wait scale 1.6 / 1.9.
    const list = [...events(200, 'LiveAnswer', { waitSeconds: 1.9 }), ...events(800, 'NoAnswer')];
    const p = computePredictiveRate(inputs(list, { previous: { rate: 10, ...longAgo } }));
    expect(p.proposedRate).toBeCloseTo((5 * 1.6) / 1.9, 10);
    expect(p.proposedRate).toBeLessThan(6.5);
    expect(p.rate).toBeCloseTo(6.5, 10);
  });

  it('within the interval the previous rate is kept', () => {
    const p = computePredictiveRate(inputs(steadyDay(), { previous: { rate: 3, updatedAt: new Date(NOW.getTime() - 10_000).toISOString() } }));
    expect(p.rate).toBe(3);
    expect(p.heldUntil).toBe(new Date(NOW.getTime() + 20_000).toISOString());
  });

  it('wait scale: a recent average wait of 16 s against a 1.6 s target is floored at 0.1', () => {
    const list = [...events(200, 'LiveAnswer', { waitSeconds: 16 }), ...events(800, 'NoAnswer')];
    const p = computePredictiveRate(inputs(list));
    expect(p.targetWaitSeconds).toBeCloseTo(1.6, 10);
    expect(p.waitScale).toBe(PREDICTIVE_SCALE_MIN);
    expect(p.scale).toBe(PREDICTIVE_SCALE_MIN);
    expect(p.proposedRate).toBeCloseTo(0.5, 10);
  });

  it('wait scale: waits at a tenth of the target are capped at 2.0', () => {
    const list = [...events(200, 'LiveAnswer', { waitSeconds: 0.16 }), ...events(800, 'NoAnswer')];
    expect(computePredictiveRate(inputs(list)).waitScale).toBe(PREDICTIVE_SCALE_MAX);
  });

  it('the average-wait-time rule sets the wait threshold (AI-led: 20 s -> target 16 s)', () => {
    const e = makeEngagement({
      type: 'ai-led',
      dialMode: { mode: 'predictive' },
      agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
      rules: [{ kind: 'average-wait-time', threshold: 20, windowMinutes: 30, decreaseByPercent: 25 }],
    });
    const list = [
      ...events(40, 'LiveAnswer', { escalated: true, waitSeconds: 32 }),
      ...events(160, 'LiveAnswer', { escalated: false }),
      ...events(800, 'NoAnswer'),
    ];
    const p = computePredictiveRate(inputs(list, { engagement: e }));
    expect(p.targetWaitSeconds).toBe(16);
    expect(p.waitScale).toBe(0.5);
    // AI-led base: dials needed for one transfer = 1,000 / 40.
    expect(p.baseRate).toBe(25);
  });

  it('exceeded-wait rate within 10% of the suspend threshold short-circuits to one line per representative', () => {
    // 28 abandoned of 1,000 live answers = 2.8% >= 0.9 x 3%.
    const list = [...events(972, 'LiveAnswer', { waitSeconds: 0.4 }), ...events(28, 'Abandoned', { waitSeconds: 2 }), ...events(4000, 'NoAnswer')];
    const p = computePredictiveRate(inputs(list, { previous: { rate: 4, ...longAgo } }));
    expect(p.fallback).toBe('exceeded-wait-near-threshold');
    expect(p.exceededWaitPercent).toBeCloseTo(2.8, 10);
    expect(p.rate).toBe(1);
  });

  it('exceeded-wait brake: between the 2.4% target and the 2.7% short-circuit the scale falls linearly from 1 to the floor', () => {
    expect(exceededWaitScale(2.4, 3, null)).toBe(PREDICTIVE_SCALE_MAX);
    expect(exceededWaitScale(2.4, 3, 1.0)).toBe(PREDICTIVE_SCALE_MAX);
    expect(exceededWaitScale(2.4, 3, 2.4)).toBe(PREDICTIVE_SCALE_MAX);
    expect(exceededWaitScale(2.4, 3, 2.5)).toBeCloseTo(2 / 3, 10);
    expect(exceededWaitScale(2.4, 3, 2.55)).toBeCloseTo(0.5, 10);
    expect(exceededWaitScale(2.4, 3, 2.7)).toBe(PREDICTIVE_SCALE_MIN);
    // A 5% threshold: target 4%, short-circuit 4.5%.
    expect(exceededWaitScale(4, 5, 4.25)).toBeCloseTo(0.5, 10);
  });

  it('a representative-led campaign at 2.6% exceeded wait brakes to a third of the base before the short-circuit', () => {
    // 26 abandoned of 1,000 live answers: under the 2.7% short-circuit, over the 2.4% target.
    const list = [...events(974, 'LiveAnswer', { waitSeconds: 0.4 }), ...events(26, 'Abandoned', { waitSeconds: 2 }), ...events(4000, 'NoAnswer')];
    const p = computePredictiveRate(inputs(list, { previous: { rate: 4, ...longAgo } }));
    expect(p.fallback).toBeUndefined();
    expect(p.exceededWaitScale).toBeCloseTo(1 / 3, 10);
    expect(p.scale).toBeCloseTo(1 / 3, 10);
    expect(p.proposedRate).toBeCloseTo(5 / 3, 10);
  });

  it('the exceeded-wait brake waits for the short-circuit minimum sample (34 live answers at 3%)', () => {
    const list = [...events(32, 'LiveAnswer', { waitSeconds: 0.4 }), ...events(1, 'Abandoned', { waitSeconds: 2 }), ...events(130, 'NoAnswer')];
    expect(computePredictiveRate(inputs(list)).exceededWaitScale).toBe(PREDICTIVE_SCALE_MAX);
  });

  it('no exceeded-wait brake for an AI-led engagement (the short-circuit is representative-led)', () => {
    const e = makeEngagement({ type: 'ai-led', dialMode: { mode: 'predictive' }, agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } } });
    const list = [
      ...events(300, 'LiveAnswer', { escalated: true, waitSeconds: 0.4 }),
      ...events(674, 'LiveAnswer', { escalated: false }),
      ...events(26, 'Abandoned', { escalated: true, waitSeconds: 2 }),
      ...events(4000, 'NoAnswer'),
    ];
    expect(computePredictiveRate(inputs(list, { engagement: e })).exceededWaitScale).toBe(PREDICTIVE_SCALE_MAX);
  });

  it('abandonment above target lowers the scale, below raises it, both within 0.1..2.0', () => {
    expect(abandonmentScale(2.4, 2.4, 0)).toBe(1);
    expect(abandonmentScale(2.4, 0, 0)).toBeCloseTo(1.3, 10);
    expect(abandonmentScale(2.4, 4.8, 0)).toBeCloseTo(0.75, 10);
    expect(abandonmentScale(2.4, null, 4.8)).toBeCloseTo(0.5, 10);
    expect(abandonmentScale(2.4, 100, 100)).toBe(PREDICTIVE_SCALE_MIN);
  });

  it('a new campaign ramps only as live answers accumulate: 40 answered, none abandoned, is still over target', () => {
    const list = [...events(40, 'LiveAnswer', { waitSeconds: 0.3 }), ...events(160, 'NoAnswer')];
    const p = computePredictiveRate(inputs(list));
    expect(p.complianceAbandonmentPercent).toBeCloseTo((3 / 43) * 100, 10);
    expect(p.scale).toBeLessThan(1);
  });

  it('scale always within 0.1..2.0 and rate within +-35% of the previous one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 0, max: 60, noNaN: true }),
        fc.double({ min: 0.1, max: 30, noNaN: true }),
        (live, abandoned, noAnswer, wait, previousRate) => {
          const list = [
            ...events(live, 'LiveAnswer', { waitSeconds: wait }),
            ...events(abandoned, 'Abandoned', { waitSeconds: 2 }),
            ...events(noAnswer, 'NoAnswer'),
          ];
          const p = computePredictiveRate(inputs(list, { previous: { rate: previousRate, ...longAgo } }));
          expect(p.scale).toBeGreaterThanOrEqual(PREDICTIVE_SCALE_MIN);
          expect(p.scale).toBeLessThanOrEqual(PREDICTIVE_SCALE_MAX);
          if (p.effectiveMode === 'predictive') {
            expect(p.rate).toBeGreaterThanOrEqual(previousRate * 0.65 - 1e-9);
            expect(p.rate).toBeLessThanOrEqual(previousRate * 1.35 + 1e-9);
          } else {
            expect(p.rate).toBe(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('predictive lines in flight', () => {
  const now = Date.parse('2026-03-10T15:00:00Z');
  it('counts every line whole when ring times are unknown (the back-end reports no ages)', () => {
    expect(predictiveLinesInFlight(7, undefined, now)).toBe(7);
  });

  it('counts a line ringing past 13 s as 0.2 of a line, younger lines whole', () => {
    const placed = [now - 2_000, now - 12_000, now - 14_000, now - 30_000];
    expect(predictiveLinesInFlight(4, placed, now)).toBeCloseTo(2 + 2 * 0.2, 9);
  });

  it('never counts more late lines than there are lines in flight', () => {
    expect(predictiveLinesInFlight(1, [now - 60_000, now - 60_000], now)).toBeCloseTo(0.2, 9);
  });
});

describe('predictive safe lines', () => {
  it('no live-answer rate yet (warm-up): one line per free representative', () => {
    expect(predictiveSafeLines(50, null)).toBe(50);
  });

  it('50 idle representatives at 20% live answer: 194 lines (38.9 +- 5.6 customers, 2 sd under 50)', () => {
    const lines = predictiveSafeLines(50, 0.2);
    expect(lines).toBeCloseTo(194.3, 1);
    expect(0.2 * lines + 2 * Math.sqrt(0.2 * 0.8 * lines)).toBeCloseTo(50, 9);
  });

  it('one free representative at 20%: one line, as progressive', () => {
    expect(predictiveSafeLines(1, 0.2)).toBeCloseTo(1, 9);
  });

  it('no free representative: no line', () => {
    expect(predictiveSafeLines(0, 0.2)).toBe(0);
    expect(predictiveSafeLines(-2, 0.2)).toBe(0);
  });

  it('a rate of 0 or 1 gives one line per free representative; a tiny rate is capped at 30 lines each', () => {
    expect(predictiveSafeLines(10, 0)).toBe(10);
    expect(predictiveSafeLines(10, 1)).toBe(10);
    expect(predictiveSafeLines(10, 0.001)).toBe(10 * PREDICTIVE_MAX_RATE);
  });

  it('between one and 30 lines per free representative, never fewer for more representatives or a lower rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.double({ min: 0.001, max: 0.999, noNaN: true }), (free, p) => {
        const lines = predictiveSafeLines(free, p);
        expect(lines).toBeGreaterThanOrEqual(free - 1e-9);
        expect(lines).toBeLessThanOrEqual(free * PREDICTIVE_MAX_RATE + 1e-9);
        expect(predictiveSafeLines(free + 1, p)).toBeGreaterThanOrEqual(lines - 1e-9);
        expect(predictiveSafeLines(free, p / 2)).toBeGreaterThanOrEqual(lines - 1e-9);
      }),
      { numRuns: 200 },
    );
  });
});
