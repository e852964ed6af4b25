import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngagementConfig } from '../../src/engagement/engagementSchema.js';
import { callsInFlight } from '../../src/pacing/activeCalls.js';
import { PREDICTIVE_MAX_RATE, predictiveSafeLines } from '../../src/pacing/computePredictiveRate.js';
import { parsePacingState, restartEngagement } from '../../src/pacing/pacingState.js';
import { makeEngagement, makeQueue } from '../support/engagements.js';
import { active, decisionOf, events, NOW, reps, tick } from './pacingFixtures.js';

const progressive = (maxCallsPerRepresentative: number, extra: Record<string, unknown> = {}) =>
  makeEngagement({ dialMode: { mode: 'progressive', maxCallsPerRepresentative }, ...extra });
const aiLed = (overrides: Record<string, unknown> = {}) =>
  makeEngagement({
    type: 'ai-led',
    dialMode: { mode: 'copilot', maxConcurrentCalls: 50, maxCallsPerRepresentative: 1 },
    agentLeg: { purpose: 'a reminder', voicemail: { action: 'end' } },
    ...overrides,
  });
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

describe('decidePacing: progressive', () => {
  it('2 calls per representative x 3 available, 3 in flight: dials 3', () => {
    const d = decisionOf(tick([progressive(2)], { active: { 'test-engagement': active({ ringing: 2, waitingForRepresentative: 1 }) } }));
    expect(d.capacity).toBe(6);
    expect(d.inputs.inFlight).toBe(3);
    expect(d.dialNow).toBe(3);
    expect(d.boundBy).toBe('representatives');
    expect(d.status).toBe('running');
  });

  it('calls already with a representative do not count against the limit (their representative is not available)', () => {
    const d = decisionOf(tick([progressive(1)], { active: { 'test-engagement': active({ withRepresentative: 20 }) } }));
    expect(d.dialNow).toBe(3);
  });

  it('more calls in flight than the limit: dials 0, never negative', () => {
    const d = decisionOf(tick([progressive(1)], { active: { 'test-engagement': active({ ringing: 9 }) } }));
    expect(d.dialNow).toBe(0);
  });

  it('fewer callable deliveries than room: bound by pending', () => {
    const d = decisionOf(tick([progressive(3)], { pending: { 'test-engagement': 2 } }));
    expect(d.dialNow).toBe(2);
    expect(d.boundBy).toBe('pending');
  });

  it('no available representative: dials nothing', () => {
    const d = decisionOf(tick([progressive(5)], { available: { q1: [] } }));
    expect(d.dialNow).toBe(0);
    expect(d.boundBy).toBe('representatives');
  });
});

describe('decidePacing: preview', () => {
  const preview = makeEngagement({ dialMode: { mode: 'preview' } });

  it('reserves one representative per call, in the order given', () => {
    const d = decisionOf(tick([preview], { pending: { 'test-engagement': 2 } }));
    expect(d.dialNow).toBe(2);
    expect(d.reservedRepresentativeIds).toEqual(['rep-01', 'rep-02']);
  });

  it('a representative already reserved on a preview call is not reserved again, even if presence still says Available', () => {
    const d = decisionOf(tick([preview], { active: { 'test-engagement': active({ ringing: 1, representativeIds: ['rep-01'] }) } }));
    expect(d.reservedRepresentativeIds).toEqual(['rep-02', 'rep-03']);
  });

  it('the same representative listed twice is reserved once', () => {
    const d = decisionOf(tick([preview], { available: { q1: ['rep-01', 'rep-01'] } }));
    expect(d.reservedRepresentativeIds).toEqual(['rep-01']);
  });
});

describe('decidePacing: copilot', () => {
  /** 1,000 dials of which 200 answered and 20 escalated: 21/1001 escalations per dial (smoothed). */
  const history = () => [...events(20, 'LiveAnswer', { escalated: true }), ...events(180, 'LiveAnswer', { escalated: false }), ...events(800, 'NoAnswer')];

  it('concurrency capped at maxConcurrentCalls (every call that is up counts)', () => {
    const e = aiLed();
    const d = decisionOf(
      tick([e], {
        available: { q1: reps(40) },
        active: { 'test-engagement': active({ ringing: 30, withAgent: 10, withRepresentative: 5 }) },
        outcomes: { 'test-engagement': history() },
      }),
    );
    expect(d.inputs.inFlight).toBe(45);
    expect(d.capacity).toBe(50);
    expect(d.dialNow).toBe(5);
    expect(d.boundBy).toBe('copilot-concurrency');
  });

  it('hand-offs bound the calls: 2 representatives x 1 take ~95 new calls at 21/1001 escalations per dial', () => {
    const e = aiLed({ dialMode: { mode: 'copilot', maxConcurrentCalls: 500, maxCallsPerRepresentative: 1 } });
    const d = decisionOf(tick([e], { available: { q1: reps(2) }, pending: { 'test-engagement': 10_000 }, outcomes: { 'test-engagement': history() } }));
    expect(d.copilot?.escalationsPerDial).toBeCloseTo(21 / 1001, 12);
    expect(d.copilot?.escalationCapacity).toBe(2);
    expect(d.dialNow).toBe(Math.floor(2 / (21 / 1001)));
    expect(d.boundBy).toBe('escalation-capacity');
  });

  it('hand-offs already expected from calls up use the capacity first', () => {
    const e = aiLed({ dialMode: { mode: 'copilot', maxConcurrentCalls: 500, maxCallsPerRepresentative: 2 } });
    const calls = active({ ringing: 10, withAgent: 20, waitingForRepresentative: 1 });
    const d = decisionOf(
      tick([e], {
        available: { q1: reps(3) },
        active: { 'test-engagement': calls },
        pending: { 'test-engagement': 10_000 },
        outcomes: { 'test-engagement': history() },
      }),
    );
    // The 21 answered calls still up count as dials and answers, the one waiting as an escalation.
    const perDial = 22 / 1022;
    const perAnswer = 22 / 222;
    const expected = 1 + 20 * perAnswer + 10 * perDial;
    expect(d.copilot?.expectedEscalations).toBeCloseTo(expected, 10);
    expect(d.dialNow).toBe(Math.floor((6 - expected) / perDial + 1e-9));
  });

  it('no outcome yet: assumes every call may escalate, one call per representative slot', () => {
    const d = decisionOf(tick([aiLed()], { available: { q1: reps(3) } }));
    expect(d.dialNow).toBe(3);
    expect(d.boundBy).toBe('escalation-capacity');
  });
});

describe('decidePacing: predictive', () => {
  const predictive = makeEngagement({ dialMode: { mode: 'predictive' } });
  const day = () => [...events(200, 'LiveAnswer', { representativeId: 'r', waitSeconds: 0.4 }), ...events(800, 'NoAnswer')];

  it('below 10 signed-in representatives: progressive with one call per representative', () => {
    const d = decisionOf(tick([predictive], { available: { q1: reps(9) }, outcomes: { 'test-engagement': day() } }));
    expect(d.effectiveMode).toBe('progressive');
    expect(d.dialNow).toBe(9);
    expect(d.boundBy).toBe('representatives');
    expect(d.reason).toContain('predictive needs 10 signed-in representatives (9)');
  });

  it('dials rate x available - in flight (rate kept within its interval)', () => {
    const state = parsePacingState({
      version: 1,
      engagements: { 'test-engagement': { status: 'running', statusSince: NOW.toISOString(), predictive: { rate: 4.5, updatedAt: later(-10).toISOString() } } },
      cursors: {},
    });
    const d = decisionOf(
      tick([predictive], {
        available: { q1: reps(6) },
        staffed: { q1: 50 },
        active: { 'test-engagement': active({ ringing: 11, withRepresentative: 44 }) },
        outcomes: { 'test-engagement': day() },
        state,
      }),
    );
    expect(d.effectiveMode).toBe('predictive');
    expect(d.predictive?.rate).toBe(4.5);
    expect(d.capacity).toBe(27);
    expect(d.dialNow).toBe(16);
    expect(d.boundBy).toBe('predictive-rate');
  });

  it('a closed queue restarts the ramp: the next morning the rate starts at one line per representative, the limit at what 50 idle representatives take safely', () => {
    const closedAtNight = makeQueue({
      operatingHours: { timeZone: 'UTC', days: { tuesday: [{ start: '08:00', end: '20:00' }], wednesday: [{ start: '08:00', end: '20:00' }] } },
    });
    const evening = parsePacingState({
      version: 1,
      engagements: { 'test-engagement': { status: 'running', statusSince: NOW.toISOString(), predictive: { rate: 5.2, updatedAt: NOW.toISOString() } } },
      cursors: {},
    });
    const night = tick([predictive], {
      queues: [closedAtNight],
      now: new Date('2026-03-10T23:00:00Z'),
      staffed: { q1: 50 },
      outcomes: { 'test-engagement': day() },
      state: evening,
    });
    expect(decisionOf(night).predictive?.rampRestarted).toBe(true);
    const morning = tick([predictive], {
      queues: [closedAtNight],
      now: new Date('2026-03-11T08:00:00Z'),
      available: { q1: reps(50) },
      staffed: { q1: 50 },
      outcomes: { 'test-engagement': day() },
      pending: { 'test-engagement': 1000 },
      state: night.state,
    });
    const d = decisionOf(morning);
    expect(d.predictive?.rate).toBeCloseTo(1.35, 10);
    // 20% live answer: 194 lines bring 38.9 +- 5.6 customers for 50 idle representatives, not 5.2 x 50 = 260 lines.
    expect(d.predictive?.safeLines).toBeCloseTo(predictiveSafeLines(50, 0.2), 10);
    expect(d.dialNow).toBe(194);
    expect(d.boundBy).toBe('predictive-safe-lines');
  });

  it('safe lines: customers already waiting take a free representative each, the rest of the free ones take lines at the live-answer rate', () => {
    const state = parsePacingState({
      version: 1,
      engagements: { 'test-engagement': { status: 'running', statusSince: NOW.toISOString(), predictive: { rate: 1, updatedAt: later(-10).toISOString() } } },
      cursors: {},
    });
    const d = decisionOf(
      tick([predictive], {
        available: { q1: reps(12) },
        staffed: { q1: 50 },
        active: { 'test-engagement': active({ ringing: 5, waitingForRepresentative: 2, withRepresentative: 38 }) },
        outcomes: { 'test-engagement': day() },
        pending: { 'test-engagement': 1000 },
        state,
      }),
    );
    // Live-answer rate 240 / 1,040 (the 40 answered calls up count): rate 1 allows 12 lines; the 2 waiting
    // customers + the 25.1 lines 10 free representatives take at 23% allow 27.
    expect(d.predictive?.successRate).toBeCloseTo(240 / 1040, 10);
    expect(d.predictive?.safeLines).toBeCloseTo(2 + predictiveSafeLines(10, 240 / 1040), 10);
    expect(d.capacity).toBe(27);
    expect(d.dialNow).toBe(27 - 7);
    expect(d.boundBy).toBe('predictive-safe-lines');
  });

  it('safe lines: a rate below one line per representative never leaves a free representative idle with nothing in flight (the idle tick of the 20,000-contact soak)', () => {
    const state = parsePacingState({
      version: 1,
      engagements: { 'test-engagement': { status: 'running', statusSince: NOW.toISOString(), predictive: { rate: 0.5, updatedAt: later(-10).toISOString() } } },
      cursors: {},
    });
    const d = decisionOf(
      tick([predictive], {
        available: { q1: reps(1) },
        staffed: { q1: 14 },
        active: { 'test-engagement': active({ withRepresentative: 13 }) },
        outcomes: { 'test-engagement': day() },
        pending: { 'test-engagement': 99 },
        state,
      }),
    );
    expect(d.status).toBe('running');
    expect(d.predictive?.rate).toBeLessThan(1);
    expect(d.dialNow).toBe(1);
    expect(d.boundBy).toBe('predictive-safe-lines');
  });

  it('safe lines: none for an AI-led predictive engagement (its lines with the agent escalate at other odds)', () => {
    const aiPredictive = aiLed({ dialMode: { mode: 'predictive' } });
    const d = decisionOf(tick([aiPredictive], { available: { q1: reps(12) }, staffed: { q1: 50 }, outcomes: { 'test-engagement': day() } }));
    expect(d.effectiveMode).toBe('predictive');
    expect(d.predictive?.safeLines).toBeUndefined();
    expect(d.boundBy).not.toBe('predictive-safe-lines');
  });

  it('safe lines: none in the progressive fallback (below 10 signed-in representatives)', () => {
    const d = decisionOf(tick([predictive], { available: { q1: reps(9) }, outcomes: { 'test-engagement': day() }, pending: { 'test-engagement': 1000 } }));
    expect(d.predictive?.safeLines).toBeUndefined();
    expect(d.dialNow).toBe(9);
  });

  it('the new rate is stored with its instant and limited to +35% of the previous one', () => {
    const first = tick([predictive], { available: { q1: reps(20) }, staffed: { q1: 50 }, outcomes: { 'test-engagement': day() } });
    expect(first.state.engagements['test-engagement']?.predictive).toEqual({ rate: 1.35, updatedAt: NOW.toISOString() });
  });
});

describe('decidePacing: priority between engagements on one queue', () => {
  const named = (id: string, priority: string) => progressive(1, { id, priority });

  it('critical takes the representatives first; normal gets what is left', () => {
    const r = tick([named('normal-one', 'normal'), named('critical-one', 'critical')], {
      available: { q1: reps(4) },
      pending: { 'normal-one': 100, 'critical-one': 3 },
    });
    expect(decisionOf(r, 'critical-one').dialNow).toBe(3);
    expect(decisionOf(r, 'normal-one').dialNow).toBe(1);
    expect(decisionOf(r, 'normal-one').inputs.allocatedRepresentatives).toBe(1);
  });

  it('equal priority, one representative free per tick: the engagements take turns over four ticks', () => {
    const pair = [named('alpha', 'high'), named('bravo', 'high')];
    let state = tick(pair, { available: { q1: [] } }).state;
    const winners: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = tick(pair, { now: later(2 * i), available: { q1: [`rep-${i}`] }, state });
      state = JSON.parse(JSON.stringify(r.state)) as typeof state;
      winners.push(...r.decisions.filter((d) => d.dialNow > 0).map((d) => d.engagementId));
    }
    expect(winners).toEqual(['alpha', 'bravo', 'alpha', 'bravo']);
  });
});

describe('decidePacing: operating hours and pauses', () => {
  const nineToFive = makeQueue({
    operatingHours: { timeZone: 'America/New_York', days: { sunday: [{ start: '09:00', end: '17:00' }], tuesday: [{ start: '09:00', end: '17:00' }] } },
  });

  it('outside the queue hours (08:00 in New York): no calls, and why', () => {
    const d = decisionOf(tick([progressive(1)], { queues: [nineToFive], now: new Date('2026-03-10T12:00:00Z') }));
    expect(d.dialNow).toBe(0);
    expect(d.boundBy).toBe('outside-operating-hours');
    expect(d.inputs.withinOperatingHours).toBe(false);
  });

  it('inside the queue hours (09:30 in New York): dials', () => {
    expect(decisionOf(tick([progressive(1)], { queues: [nineToFive], now: new Date('2026-03-10T13:30:00Z') })).dialNow).toBe(3);
  });

  it('DST day: 13:30 UTC on Sunday 2026-03-08 is 09:30 EDT (open); on 2026-03-01 it was 08:30 EST (closed)', () => {
    expect(decisionOf(tick([progressive(1)], { queues: [nineToFive], now: new Date('2026-03-08T13:30:00Z') })).dialNow).toBe(3);
    expect(decisionOf(tick([progressive(1)], { queues: [nineToFive], now: new Date('2026-03-01T13:30:00Z') })).dialNow).toBe(0);
  });

  it('allowOutsideQueueHours: a progressive engagement dials at 08:00', () => {
    const e = progressive(1, { operatingHours: { allowOutsideQueueHours: true } });
    const d = decisionOf(tick([e], { queues: [nineToFive], now: new Date('2026-03-10T12:00:00Z') }));
    expect(d.dialNow).toBe(3);
    expect(d.inputs.withinOperatingHours).toBe(false);
  });

  it('paused in the configuration: no calls, status paused', () => {
    const d = decisionOf(tick([progressive(2, { paused: true })]));
    expect(d.dialNow).toBe(0);
    expect(d.status).toBe('paused');
    expect(d.boundBy).toBe('configuration-paused');
  });

  it('a queue missing from the configuration pauses that engagement only', () => {
    const lost = progressive(1, { id: 'lost', routing: { primaryQueue: 'nowhere' } });
    const r = tick([lost, progressive(1)]);
    expect(decisionOf(r, 'lost').boundBy).toBe('unknown-queue');
    expect(decisionOf(r).dialNow).toBe(3);
  });
});

describe('decidePacing: rules', () => {
  it('abandonment over threshold throttles: limit halved, status throttled, the rule named', () => {
    const e = progressive(2, { rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 50 }] });
    const d = decisionOf(tick([e], { available: { q1: reps(4) }, outcomes: { 'test-engagement': [...events(95, 'LiveAnswer'), ...events(5, 'Abandoned')] } }));
    expect(d.capacity).toBe(8);
    expect(d.limit).toBe(4);
    expect(d.dialNow).toBe(4);
    expect(d.status).toBe('throttled');
    expect(d.boundBy).toBe('rule:abandonment-rate');
    expect(d.reason).toContain('abandonment-rate 5% in the last 60 min');
  });

  it('representative-led abandonment at 100%: paused until restarted, even after the rate recovers', () => {
    const e = progressive(1, { rules: [{ kind: 'abandonment-rate', threshold: 3, windowMinutes: 60, decreaseByPercent: 100 }] });
    const bad = [...events(95, 'LiveAnswer'), ...events(5, 'Abandoned')];
    const first = tick([e], { outcomes: { 'test-engagement': bad } });
    expect(decisionOf(first).status).toBe('paused');
    expect(decisionOf(first).boundBy).toBe('paused-until-restart');
    const recovered = tick([e], { now: later(7200), outcomes: { 'test-engagement': bad }, state: first.state });
    expect(decisionOf(recovered).dialNow).toBe(0);
    expect(decisionOf(recovered).status).toBe('paused');
    const restarted = tick([e], { now: later(7200), outcomes: { 'test-engagement': bad }, state: restartEngagement(recovered.state, e.id, later(7000)) });
    expect(decisionOf(restarted).status).toBe('running');
    expect(decisionOf(restarted).dialNow).toBe(3);
  });

  it('an AI-led rule at 100% pauses while breached and resumes when it clears', () => {
    const e = aiLed({ rules: [{ kind: 'open-concurrent-escalations', threshold: 3, windowMinutes: 15, decreaseByPercent: 100 }] });
    const busy = tick([e], { active: { 'test-engagement': active({ waitingForRepresentative: 3 }) } });
    expect(decisionOf(busy).status).toBe('paused');
    expect(decisionOf(busy).boundBy).toBe('rule:open-concurrent-escalations');
    const clear = tick([e], { now: later(2), state: busy.state });
    expect(decisionOf(clear).status).toBe('running');
    expect(decisionOf(clear).dialNow).toBeGreaterThan(0);
  });
});

describe('decidePacing: agent failure policy', () => {
  it('stop: the first BotFailed stops the engagement, asks the shell to cancel queued deliveries, and holds until restart', () => {
    const e = aiLed({ agentFailurePolicy: { action: 'stop' } });
    const failed = events(1, 'BotFailed', {}, 5);
    const first = tick([e], { outcomes: { 'test-engagement': failed } });
    const d = decisionOf(first);
    expect(d.status).toBe('stopped');
    expect(d.dialNow).toBe(0);
    expect(d.cancelQueuedDeliveries).toBe(true);
    expect(d.reason).toContain('policy is to stop at the first failure');
    expect(first.state.engagements['test-engagement']?.hold?.status).toBe('stopped');

    // The failure leaves the outcome window: still stopped.
    const next = tick([e], { now: later(86_400 * 31), state: first.state });
    expect(decisionOf(next).status).toBe('stopped');

    // Restart: the old failure no longer counts.
    const restarted = tick([e], { now: later(60), outcomes: { 'test-engagement': failed }, state: restartEngagement(first.state, e.id, later(30)) });
    expect(decisionOf(restarted).status).toBe('running');
    expect(decisionOf(restarted).cancelQueuedDeliveries).toBe(false);
  });

  it('continue until 5%: one failure among the first calls does not stop; 2 of 40 does', () => {
    const e = aiLed({ agentFailurePolicy: { action: 'continue-until', failureRatePercent: 5 } });
    const early = tick([e], { outcomes: { 'test-engagement': [...events(1, 'BotFailed'), ...events(2, 'LiveAnswer', { escalated: false })] } });
    expect(decisionOf(early).status).toBe('running');
    const late = tick([e], { outcomes: { 'test-engagement': [...events(2, 'BotFailed'), ...events(38, 'LiveAnswer', { escalated: false })] } });
    expect(decisionOf(late).status).toBe('stopped');
    expect(decisionOf(late).failurePolicy?.failureRatePercent).toBe(5);
  });

  it('an AI-led engagement without a policy gets the default: continue until 1%', () => {
    const d = decisionOf(tick([aiLed()], { outcomes: { 'test-engagement': [...events(1, 'BotFailed'), ...events(99, 'LiveAnswer')] } }));
    expect(d.failurePolicy?.thresholdPercent).toBe(1);
    expect(d.status).toBe('stopped');
  });
});

describe('decidePacing: state', () => {
  it('state survives JSON (Table Storage) unchanged and validates', () => {
    const e = makeEngagement({ dialMode: { mode: 'predictive' } });
    const r = tick([e, progressive(1, { id: 'other' })], { available: { q1: reps(12) } });
    const stored = JSON.parse(JSON.stringify(r.state)) as unknown;
    expect(parsePacingState(stored)).toEqual(r.state);
  });

  it('a corrupt stored state is a precise error', () => {
    expect(() => parsePacingState({ version: 1, engagements: { x: { status: 'sleeping', statusSince: 'now' } }, cursors: {} })).toThrow(
      /engagements\.x\.status: .*engagements\.x\.statusSince/s,
    );
  });

  it('status since only moves when the status changes', () => {
    const e = progressive(1);
    const a = tick([e]);
    const b = tick([e], { now: later(2), state: a.state });
    expect(b.state.engagements['test-engagement']?.statusSince).toBe(NOW.toISOString());
  });
});

describe('decidePacing: properties', () => {
  const modes: ((maxCalls: number, maxConcurrent: number) => EngagementConfig)[] = [
    (m) => progressive(m),
    () => makeEngagement({ dialMode: { mode: 'preview' } }),
    () => makeEngagement({ dialMode: { mode: 'predictive' } }),
    (m, c) => aiLed({ dialMode: { mode: 'copilot', maxConcurrentCalls: c, maxCallsPerRepresentative: m } }),
  ];
  const scenario = fc.record({
    mode: fc.integer({ min: 0, max: modes.length - 1 }),
    maxCalls: fc.integer({ min: 1, max: 5 }),
    maxConcurrent: fc.integer({ min: 1, max: 500 }),
    available: fc.integer({ min: 0, max: 60 }),
    staffed: fc.integer({ min: 0, max: 80 }),
    ringing: fc.integer({ min: 0, max: 200 }),
    withAgent: fc.integer({ min: 0, max: 100 }),
    waiting: fc.integer({ min: 0, max: 20 }),
    withRep: fc.integer({ min: 0, max: 60 }),
    pending: fc.integer({ min: 0, max: 5000 }),
    live: fc.integer({ min: 0, max: 300 }),
    abandoned: fc.integer({ min: 0, max: 20 }),
    noAnswer: fc.integer({ min: 0, max: 1500 }),
    previousRate: fc.option(fc.double({ min: 0.1, max: 30, noNaN: true }), { nil: undefined }),
  });
  type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

  function run(s: Scenario) {
    const builder = modes[s.mode];
    if (builder === undefined) throw new Error('mode index out of range');
    const e = builder(s.maxCalls, s.maxConcurrent);
    const calls = active({
      ringing: s.ringing,
      withAgent: e.type === 'ai-led' ? s.withAgent : 0,
      waitingForRepresentative: s.waiting,
      withRepresentative: s.withRep,
    });
    const state =
      s.previousRate === undefined
        ? undefined
        : parsePacingState({
            version: 1,
            engagements: {
              [e.id]: { status: 'running', statusSince: NOW.toISOString(), predictive: { rate: s.previousRate, updatedAt: later(-600).toISOString() } },
            },
            cursors: {},
          });
    const result = tick([e], {
      available: { q1: reps(s.available) },
      staffed: { q1: s.staffed },
      active: { [e.id]: calls },
      pending: { [e.id]: s.pending },
      outcomes: {
        [e.id]: [
          ...events(s.live, 'LiveAnswer', { waitSeconds: 0.3 }),
          ...events(s.abandoned, 'Abandoned', { waitSeconds: 2 }),
          ...events(s.noAnswer, 'NoAnswer'),
        ],
      },
      ...(state === undefined ? {} : { state }),
    });
    return { e, calls, result, d: decisionOf(result) };
  }

  it("dialNow is a whole number, never negative, never above pending or the mode's cap", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { e, calls, d } = run(s);
        expect(Number.isInteger(d.dialNow)).toBe(true);
        expect(d.dialNow).toBeGreaterThanOrEqual(0);
        expect(d.dialNow).toBeLessThanOrEqual(s.pending);
        const inFlight = callsInFlight(e, calls);
        switch (e.dialMode.mode) {
          case 'progressive':
            if (d.dialNow > 0) expect(d.dialNow + inFlight).toBeLessThanOrEqual(e.dialMode.maxCallsPerRepresentative * s.available);
            break;
          case 'preview':
            expect(d.dialNow).toBeLessThanOrEqual(s.available);
            expect(new Set(d.reservedRepresentativeIds).size).toBe(d.dialNow);
            break;
          case 'copilot':
            if (d.dialNow > 0) expect(d.dialNow + inFlight).toBeLessThanOrEqual(e.dialMode.maxConcurrentCalls);
            break;
          case 'predictive': {
            const perRep = d.effectiveMode === 'predictive' ? PREDICTIVE_MAX_RATE : 1;
            if (d.dialNow > 0) expect(d.dialNow + inFlight).toBeLessThanOrEqual(perRep * s.available);
            if (s.staffed < 10) expect(d.effectiveMode).toBe('progressive');
            break;
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('deterministic: the same inputs give the same decisions and state', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        expect(run(s).result).toEqual(run(s).result);
      }),
      { numRuns: 100 },
    );
  });
});

describe('Ofcom 24-hour abandonment in the pacing decision', () => {
  it('an engagement calling UK numbers is paused by the default 3% limit over 24 h and the decision says why; the same outcomes elsewhere do not', () => {
    const e = makeEngagement({ rules: [] });
    const outcomes = { 'test-engagement': [...events(92, 'LiveAnswer', {}, 20 * 3600), ...events(8, 'Abandoned', {}, 20 * 3600)] };
    const uk = decisionOf(tick([e], { outcomes, ukEngagements: ['test-engagement'] }));
    expect(uk).toMatchObject({ status: 'paused', dialNow: 0, boundBy: 'rule:abandonment-rate' });
    expect(uk.reason).toContain('Ofcom: abandonment over 24 h is 8%');
    const elsewhere = decisionOf(tick([e], { outcomes }));
    expect(elsewhere.dialNow).toBeGreaterThan(0);
    expect(elsewhere.rules).toEqual([]);
  });
});
