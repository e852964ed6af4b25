import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/contacts/callEvent.js';
import { CALL_RESULTS } from '../../src/contacts/callResult.js';
import { OutcomeLog } from '../../src/pacing/outcomeLog.js';
import { summarizeOutcomes, withCallsInProgress } from '../../src/pacing/summarizeOutcomes.js';
import { events, NOW } from './pacingFixtures.js';

describe('summarizeOutcomes', () => {
  it('counts a day of representative-led outcomes: abandonment over live answers, not over dials', () => {
    const s = summarizeOutcomes(
      [
        ...events(90, 'LiveAnswer', { representativeId: 'r1', waitSeconds: 0.5 }),
        ...events(10, 'Abandoned', { waitSeconds: 2 }),
        ...events(300, 'NoAnswer'),
        ...events(100, 'AnsweringMachine'),
        ...events(7, 'Cancelled'),
      ],
      NOW,
      60,
    );
    expect(s.dialed).toBe(500);
    expect(s.liveAnswers).toBe(100);
    expect(s.liveAnswerRate).toBe(0.2);
    expect(s.abandoned).toBe(10);
    expect(s.abandonmentRate).toBe(0.1);
    expect(s.averageWaitSeconds).toBeCloseTo((90 * 0.5 + 10 * 2) / 100, 10);
    expect(s.waitsOverLimit).toBe(10);
    expect(s.exceededWaitRate).toBe(0.1);
    expect(s.connectedToRepresentative).toBe(90);
  });

  it('counts AI-led escalations and agent failures over the calls the agent took', () => {
    const s = summarizeOutcomes(
      [...events(60, 'LiveAnswer', { escalated: false }), ...events(38, 'LiveAnswer', { escalated: true, representativeId: 'r' }), ...events(2, 'BotFailed')],
      NOW,
      60,
    );
    expect(s.escalations).toBe(38);
    expect(s.botFailures).toBe(2);
    expect(s.failureRate).toBe(0.02);
  });

  it('window (now - N min, now]: an event exactly N minutes old is out, one at now is in', () => {
    const s = summarizeOutcomes([...events(1, 'Abandoned', {}, 600), ...events(1, 'Abandoned', {}, 0), ...events(1, 'Abandoned', {}, 599)], NOW, 10);
    expect(s.abandoned).toBe(2);
  });

  it('no live answers: the rates are null, not 0%', () => {
    const s = summarizeOutcomes(events(5, 'NoAnswer'), NOW, 60);
    expect(s.abandonmentRate).toBeNull();
    expect(s.averageWaitSeconds).toBeNull();
    expect(s.liveAnswerRate).toBe(0);
  });

  it('since: events before a restart are ignored', () => {
    const s = summarizeOutcomes([...events(3, 'BotFailed', {}, 120), ...events(1, 'BotFailed', {}, 30)], NOW, 60, { since: new Date(NOW.getTime() - 60_000) });
    expect(s.botFailures).toBe(1);
  });

  it('calls answered and still up count as live answers (3 abandoned of 75 ended is 2% of 150 answered)', () => {
    const base = summarizeOutcomes([...events(72, 'LiveAnswer'), ...events(3, 'Abandoned')], NOW, 60);
    expect(base.abandonmentRate).toBe(0.04);
    const corrected = withCallsInProgress(base, { withAgent: 0, waitingForRepresentative: 1, withRepresentative: 74 }, false);
    expect(corrected.escalations).toBe(0);
    expect(corrected.liveAnswers).toBe(150);
    expect(corrected.abandonmentRate).toBe(0.02);
  });

  it('AI-led: calls waiting for or with a representative were escalated', () => {
    const base = summarizeOutcomes(events(10, 'LiveAnswer', { escalated: true }), NOW, 60);
    expect(withCallsInProgress(base, { withAgent: 5, waitingForRepresentative: 2, withRepresentative: 3 }, true).escalations).toBe(15);
  });
});

describe('OutcomeLog', () => {
  const eventArb = fc.record({
    result: fc.constantFrom(...CALL_RESULTS),
    secondsAgo: fc.integer({ min: -30, max: 7200 }),
    wait: fc.option(fc.double({ min: 0, max: 30, noNaN: true }), { nil: undefined }),
    escalated: fc.option(fc.boolean(), { nil: undefined }),
  });

  it('summaries equal the one-pass summary for any events, windows and restart instants', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 180 }),
        fc.option(fc.integer({ min: 0, max: 7200 }), { nil: undefined }),
        (raw, window, sinceAgo) => {
          const list: CallEvent[] = raw.map((r, i) => ({
            deliveryId: `d${i}`,
            attempt: 1,
            engagementId: 'e',
            result: r.result,
            at: new Date(NOW.getTime() - r.secondsAgo * 1000).toISOString(),
            ...(r.wait === undefined ? {} : { waitSeconds: r.wait }),
            ...(r.escalated === undefined ? {} : { escalated: r.escalated }),
          }));
          const options = sinceAgo === undefined ? {} : { since: new Date(NOW.getTime() - sinceAgo * 1000) };
          const expected = summarizeOutcomes(list, NOW, window, options);
          const indexed = OutcomeLog.from(list).summarize(NOW, window, options);
          // Appending in arrival order (out of time order) must index the same events.
          const appended = new OutcomeLog();
          for (const e of list) appended.append(e);
          for (const got of [indexed, appended.summarize(NOW, window, options)]) {
            expect({ ...got, averageWaitSeconds: null }).toEqual({ ...expected, averageWaitSeconds: null });
            if (expected.averageWaitSeconds === null) expect(got.averageWaitSeconds).toBeNull();
            else expect(got.averageWaitSeconds).toBeCloseTo(expected.averageWaitSeconds, 9);
          }
        },
      ),
    );
  });

  it('dropBefore keeps only later events', () => {
    const log = OutcomeLog.from([...events(4, 'NoAnswer', {}, 3600), ...events(2, 'NoAnswer', {}, 60)]);
    expect(log.dropBefore(new Date(NOW.getTime() - 600_000)).size).toBe(2);
  });
});
