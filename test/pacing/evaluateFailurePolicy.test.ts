import { describe, expect, it } from 'vitest';
import { evaluateFailurePolicy } from '../../src/pacing/evaluateFailurePolicy.js';
import { summarizeOutcomes } from '../../src/pacing/summarizeOutcomes.js';
import { events, NOW } from './pacingFixtures.js';

const summary = (failures: number, handled: number) =>
  summarizeOutcomes([...events(failures, 'BotFailed'), ...events(handled - failures, 'LiveAnswer', { escalated: false }), ...events(50, 'NoAnswer')], NOW, 60);

describe('evaluateFailurePolicy', () => {
  it('stop: the first BotFailed trips it', () => {
    expect(evaluateFailurePolicy({ action: 'stop' }, summary(1, 1)).tripped).toBe(true);
    expect(evaluateFailurePolicy({ action: 'stop' }, summary(0, 500)).tripped).toBe(false);
  });

  it('continue until 5%: one failure in the first 3 calls does not stop the campaign (minimum 20 calls)', () => {
    const v = evaluateFailurePolicy({ action: 'continue-until', failureRatePercent: 5 }, summary(1, 3));
    expect(v.tripped).toBe(false);
    expect(v.minimumSample).toBe(20);
    expect(v.explanation).toContain('not judged before 20 agent-handled calls');
  });

  it('continue until 5%: 1 of 20 reaches 5% and stops', () => {
    const v = evaluateFailurePolicy({ action: 'continue-until', failureRatePercent: 5 }, summary(1, 20));
    expect(v.tripped).toBe(true);
    expect(v.failureRatePercent).toBe(5);
    expect(v.explanation).toBe('AI agent failure rate 5% (1 of 20 calls) vs 5%: reached, engagement stopped');
  });

  it('continue until 1%: 1 of 99 is within, 1 of 100 needs the sample of 100 and reaches 1%', () => {
    expect(evaluateFailurePolicy({ action: 'continue-until', failureRatePercent: 1 }, summary(1, 99)).tripped).toBe(false);
    expect(evaluateFailurePolicy({ action: 'continue-until', failureRatePercent: 1 }, summary(1, 100)).tripped).toBe(true);
    expect(evaluateFailurePolicy({ action: 'continue-until', failureRatePercent: 1 }, summary(1, 150)).tripped).toBe(false);
  });
});
